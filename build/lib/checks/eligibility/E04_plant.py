"""E04 plants: imprisoned since two months before M; near-misses: released during M, probation."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from auditor.core.periods import month_add
from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_eligibility import add_row, first_of, member_id, paid_case
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m, first = d.month, first_of(d.month)
    c = paid_case(d, "仙霞新村街道", size=2)
    inmate = member_id(d, c, 1)
    add_row(d, "penalties", person_id=inmate, kind="imprisonment", start_date=first_of(month_add(m, -2)),
            end_date=date(first.year + 1, 7, 31))
    d.expect("E04", [inmate], "服刑期间仍随户发放3个月")
    c = paid_case(d, "仙霞新村街道")
    add_row(d, "penalties", person_id=c["payee_id"], kind="imprisonment", start_date=date(2024, 1, 1),
            end_date=first + timedelta(days=19))
    d.near_miss("E04", [c["payee_id"]], "审计月内刑满释放，未覆盖整月")
    c = paid_case(d, "仙霞新村街道")
    add_row(d, "penalties", person_id=c["payee_id"], kind="probation", start_date=date(2025, 1, 1), end_date=None)
    d.near_miss("E04", [c["payee_id"]], "缓刑不属于服刑")


def bench(b: ColumnarPlanting) -> None:
    b.add("penalties", b.members_of().select(person_id="member", kind=pl.lit("imprisonment"),
                                             start_date=b.day(-100), end_date=b.day(400)))


register_plant("E04", demo=demo, bench=bench)
