"""C01 plants: two unrelated payees paid into one account (the second also C02); near-miss: two
cases of one household (spouses) paid into the husband's account."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_relations import C_STREET, relate
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m = d.month
    a = d.pick_case(C_STREET)
    b = d.pick_case(C_STREET)
    d.pay(a, m)
    d.pay(b, m, account=a["bank_account"])
    d.expect("C01", [a["bank_account"]], "两名无关领款人的低保金打入同一账户")
    d.expect("C02", [b["payee_id"], a["bank_account"]], "低保金打入他人账户未备案")
    husband = d.pick_case(C_STREET)
    wife = d.pick_case(C_STREET, program="disability")
    d.tables["members"].append({"case_id": wife["case_id"], "person_id": husband["payee_id"], "name": d.name(),
                                "relation_to_payee": "spouse", "phone": None,
                                "address": d.members_of(wife)[0]["address"]})
    relate(d, husband["payee_id"], wife["payee_id"], "spouse")
    d.pay(husband, m)
    d.pay(wife, m, account=husband["bank_account"])
    d.near_miss("C01", [husband["bank_account"]], "同一家庭两个案件（夫妻）共用一个账户")
    d.near_miss("C02", [wife["payee_id"], husband["bank_account"]], "开户人为本案成员（配偶）")


def bench(b: ColumnarPlanting) -> None:
    """The other planted payees' instructions and payments of M go to the first one's account."""
    group = b.group()
    others = pl.col("case_id").is_in(group["case_id"][1:].implode())
    b.edit("pay", others & b.in_m, bank_account=pl.lit(group["bank_account"][0]))


register_plant("C01", demo=demo, bench=bench)
