"""D01 plants: an active restriction on a member of a case paid for M; near-miss: the restriction
ended the day before M."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from auditor.core.periods import month_bounds
from auditor.demo.columnar import ColumnarPlanting, dishonesty_rows
from auditor.demo.district import District
from auditor.demo.plant_eligibility import paid_case
from auditor.demo.plant_relations import D_STREET, dishonesty_record
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    first, _ = month_bounds(d.month)
    c = paid_case(d, D_STREET)
    member = d.members_of(c)[0]
    dishonesty_record(d, c["payee_id"], member["name"], first - timedelta(days=200), defrauded=120000,
                      recovered=120000, reported=first - timedelta(days=190))
    d.expect("D01", [c["payee_id"]], "失信限制期内仍领取低保")
    c = paid_case(d, D_STREET)
    dishonesty_record(d, c["payee_id"], d.members_of(c)[0]["name"], first - timedelta(days=800), defrauded=50000,
                      recovered=50000, reported=first - timedelta(days=790), until=first - timedelta(days=1))
    d.near_miss("D01", [c["payee_id"]], "失信限制已于上月末到期")


def bench(b: ColumnarPlanting) -> None:
    """A record 100 days old on the second member, recovered and reported."""
    rows = b.members_of().select(record_id=pl.lit("DX1") + pl.col("case_id"), person_id="member",
                                 name="member_name", recorded_on=b.day(-100))
    b.add("dishonesty", dishonesty_rows(rows, recovered_fen=500000, reported=True))


register_plant("D01", demo=demo, bench=bench)
