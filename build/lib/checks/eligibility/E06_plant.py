"""E06 plants: a member of a 低保 case is also the payee of a paid 特困 case; near-miss: 低保 and
temporary assistance together (not exclusive)."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_eligibility import add_member, paid_case
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    c1 = paid_case(d, "程家桥街道", size=2)
    c2 = paid_case(d, "程家桥街道", "tekun")
    add_member(d, c1, c2["payee_id"], "parent")
    d.expect("E06", [c2["payee_id"]], "同时享受低保和特困")
    c1 = paid_case(d, "程家桥街道")
    t = d.new_case("程家桥街道", "temporary", pay=False, start_month=d.month)
    add_member(d, t, c1["payee_id"], "spouse")
    d.pay(t, d.month, amount=80000)
    d.near_miss("E06", [c1["payee_id"]], "低保与临时救助可以并存")


def bench(b: ColumnarPlanting) -> None:
    """A member of each planted case is also a member of another paid dibao case."""
    rows = b.members_of().with_columns(other=b.extra["case_id"].head(b.group().height))
    b.add("members", rows.select(case_id="other", person_id="member", name="member_name",
                                 relation_to_payee=pl.lit("other"), phone=pl.lit(None, pl.String),
                                 address="address"))


register_plant("E06", demo=demo, bench=bench)
