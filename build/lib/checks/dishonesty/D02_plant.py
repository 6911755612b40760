"""D02 plants: 10,000.00 of 12,000.00 outstanding after 200 days; near-miss: 60 days old, still
within recovery_days."""

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
    r = dishonesty_record(d, d.new_person_id(), d.name(), last - timedelta(days=200), defrauded=1200000,
                          recovered=200000, reported=last - timedelta(days=190), until=last + timedelta(days=900))
    d.expect("D02", [r["record_id"]], "骗取12000元仅追回2000元")
    r = dishonesty_record(d, d.new_person_id(), d.name(), last - timedelta(days=60), defrauded=800000, recovered=0,
                          reported=last - timedelta(days=55), until=last + timedelta(days=900))
    d.near_miss("D02", [r["record_id"]], "认定未满90天")


def bench(b: ColumnarPlanting) -> None:
    """k outsiders' records 200 days old with 1,000.00 of 5,000.00 recovered."""
    rows = pl.DataFrame({"record_id": seq_text("DX2-", 1, b.k, 4), "person_id": b.people(b.k),
                         "name": b.names(b.k), "recorded_on": b.day(-200)})
    b.add("dishonesty", dishonesty_rows(rows, recovered_fen=100000, reported=True))


register_plant("D02", demo=demo, bench=bench)
