"""E05 plants: income at the floor; near-misses: one fen under, income in the phase-out period."""

from __future__ import annotations

import polars as pl

from auditor.core.periods import month_add
from auditor.demo.columnar import ColumnarPlanting, money
from auditor.demo.district import District
from auditor.demo.plant_eligibility import add_row, first_of, member_id, paid_case
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m = d.month
    c = paid_case(d, "虹桥街道", size=2)
    worker = member_id(d, c, 1)
    add_row(d, "employment", person_id=worker, employer="某物流公司", monthly_income=200000,
            start_date=first_of(month_add(m, -7)), end_date=None)
    d.expect("E05", [worker], "家庭成员就业月收入2000元")
    c = paid_case(d, "虹桥街道")
    add_row(d, "employment", person_id=c["payee_id"], employer="某超市", monthly_income=199999,
            start_date=first_of(month_add(m, -7)), end_date=None)
    d.near_miss("E05", [c["payee_id"]], "月收入1999.99元，低于2000元")
    c = paid_case(d, "虹桥街道", phase_out_start=month_add(m, -3))
    add_row(d, "employment", person_id=c["payee_id"], employer="某餐饮公司", monthly_income=320000,
            start_date=first_of(month_add(m, -5)), end_date=None)
    d.near_miss("E05", [c["payee_id"]], "渐退期内的就业收入")
    d.near_miss("E10", [c["case_id"]], "渐退第3个月")


def bench(b: ColumnarPlanting) -> None:
    b.add("employment", b.members_of().select(person_id="member", employer=pl.lit("某物流公司"),
                                              monthly_income=money(pl.lit(350000)), start_date=b.day(-200),
                                              end_date=pl.lit(None, pl.Date)))


register_plant("E05", demo=demo, bench=bench)
