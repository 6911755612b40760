"""E02 plants: a member on the public payroll since 2024; near-miss: payroll ended the day before M."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_eligibility import add_row, first_of, member_id, paid_case
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    first = first_of(d.month)
    c = paid_case(d, "新华路街道", size=3)
    child = member_id(d, c, 1)
    add_row(d, "public_payroll", person_id=child, employer="区卫生健康委", start_date=date(2024, 7, 1), end_date=None)
    d.expect("E02", [child], "家庭成员为财政供养人员")
    c = paid_case(d, "新华路街道")
    add_row(d, "public_payroll", person_id=c["payee_id"], employer="区教育局", start_date=date(2018, 9, 1),
            end_date=first - timedelta(days=1))
    d.near_miss("E02", [c["payee_id"]], "财政供养在审计月前一天结束")


def bench(b: ColumnarPlanting) -> None:
    b.add("public_payroll", b.members_of().select(person_id="member", employer=pl.lit("区教育局"),
                                                  start_date=b.day(-300), end_date=pl.lit(None, pl.Date)))


register_plant("E02", demo=demo, bench=bench)
