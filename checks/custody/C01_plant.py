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
    """Planted payees in threes (the last group up to five): the instructions and payments of M of
    the others in a group go to its first payee's account."""
    group = b.group().with_row_index("j")
    lead = pl.col("j") // 3 * 3
    lead = pl.when((lead >= group.height - 2) & (lead > 0)).then(lead - 3).otherwise(lead)
    others = group.with_columns(shared=pl.col("bank_account").gather(lead)).filter(pl.col("j") != lead)
    b.edit("pay", pl.col("case_id").is_in(others["case_id"].implode()) & b.in_m,
           bank_account=pl.col("case_id").replace_strict(others["case_id"], others["shared"], default=None))


register_plant("C01", demo=demo, bench=bench)
