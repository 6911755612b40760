"""E03 plants: a car; a business role; two properties. Near-misses: a wheelchair vehicle, a car
deregistered before M."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_eligibility import add_row, first_of, member_id, paid_case
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    first = first_of(d.month)
    c = paid_case(d, "周家桥街道")
    add_row(d, "vehicles", person_id=c["payee_id"], plate="沪A8K123", vehicle_type="小型轿车",
            registered_on=date(2025, 3, 1), deregistered_on=None)
    d.expect("E03", [c["payee_id"]], "名下有小型轿车")
    c = paid_case(d, "周家桥街道", "tekun")
    add_row(d, "businesses", person_id=c["payee_id"], business_id="91310105MA1FL0001X",
            business_name="长宁某贸易有限公司", role="legal_rep", start_date=date(2023, 4, 1), end_date=None)
    d.expect("E03", [c["payee_id"]], "担任企业法定代表人")
    c = paid_case(d, "天山路街道", size=2)
    owner = member_id(d, c, 1)
    for k in range(2):
        add_row(d, "real_estate", person_id=owner, property_id=f"RE-P-{k}", area_sqm="62.5",
                registered_on=date(2016 + k, 5, 1), deregistered_on=None)
    d.expect("E03", [owner], "名下不动产2处，超过1处")
    c = paid_case(d, "天山路街道", "disability")
    add_row(d, "vehicles", person_id=c["payee_id"], plate="沪C0001", vehicle_type="残疾人机动轮椅车",
            registered_on=date(2022, 1, 1), deregistered_on=None)
    d.near_miss("E03", [c["payee_id"]], "残疾人机动轮椅车不计入")
    c = paid_case(d, "天山路街道")
    add_row(d, "vehicles", person_id=c["payee_id"], plate="沪D0002", vehicle_type="小型轿车",
            registered_on=date(2015, 1, 1), deregistered_on=first - timedelta(days=1))
    d.near_miss("E03", [c["payee_id"]], "车辆在审计月前已注销")


def bench(b: ColumnarPlanting) -> None:
    b.add("vehicles", b.members_of().select(person_id="member", plate=pl.lit("沪B") + pl.col("case_id"),
                                            vehicle_type=pl.lit("小型轿车"), registered_on=b.day(-200),
                                            deregistered_on=pl.lit(None, pl.Date)))


register_plant("E03", demo=demo, bench=bench)
