"""E01 plants: a spouse died two months before M, still paid; near-miss: death during M."""

from __future__ import annotations

from datetime import timedelta

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_eligibility import add_row, first_of, member_id, paid_case
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    first = first_of(d.month)
    c = paid_case(d, "华阳路街道", size=2)
    spouse = member_id(d, c, 1)
    add_row(d, "deaths", person_id=spouse, died_on=first - timedelta(days=47))
    d.expect("E01", [spouse], "配偶身故后仍按原户发放2个月")
    c = paid_case(d, "江苏路街道")
    add_row(d, "deaths", person_id=c["payee_id"], died_on=first + timedelta(days=2))
    d.near_miss("E01", [c["payee_id"]], "当月身故，当月待遇仍应发放")


def bench(b: ColumnarPlanting) -> None:
    b.add("deaths", b.members_of().select(person_id="member", died_on=b.day(-20)))


register_plant("E01", demo=demo, bench=bench)
