"""D03 plants: not reported 100 days after the decision; near-miss: reported on day 30."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from auditor.core.periods import month_bounds
from auditor.demo.columnar import ColumnarPlanting, dishonesty_rows, seq_text
from auditor.demo.district import District
from auditor.demo.plant_relations import dishonesty_record
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    _, last = month_bounds(d.month)
    r = dishonesty_record(d, d.new_person_id(), d.name(), last - timedelta(days=100), defrauded=90000,
                          recovered=90000, reported=None, until=last + timedelta(days=900))
    d.expect("D03", [r["record_id"]], "认定100天未报送联席会议办公室")
    recorded = last - timedelta(days=70)
    r = dishonesty_record(d, d.new_person_id(), d.name(), recorded, defrauded=90000, recovered=90000,
                          reported=recorded + timedelta(days=30), until=last + timedelta(days=900))
    d.near_miss("D03", [r["record_id"]], "认定后第30天报送，未超时限")


def bench(b: ColumnarPlanting) -> None:
    """k outsiders' records 100 days old, never reported."""
    rows = pl.DataFrame({"record_id": seq_text("DX3-", 1, b.k, 4), "person_id": b.people(b.k),
                         "name": b.names(b.k), "recorded_on": b.day(-100)})
    b.add("dishonesty", dishonesty_rows(rows, recovered_fen=500000, reported=False))


register_plant("D03", demo=demo, bench=bench)
