"""C02 plants: paid into an unrelated person's account; near-misses: the account of the spouse in
the case, a valid custody filing for a neighbour who holds the card (also C04's)."""

from __future__ import annotations

from datetime import date

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_relations import C_STREET, custody_filing, new_account
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m = d.month
    c = d.pick_case(C_STREET)
    d.pay(c, m, account=new_account(d, d.new_person_id(), d.name()))
    d.expect("C02", [c["payee_id"], d.tables["payments"][-1]["bank_account"]], "打入无关人员账户且无代管备案")
    c = d.pick_case(C_STREET, size=2)
    spouse = d.members_of(c)[1]["person_id"]
    acct = new_account(d, spouse, d.members_of(c)[1]["name"])
    d.pay(c, m, account=acct)
    d.near_miss("C02", [c["payee_id"], acct], "开户人为同户配偶")
    c = d.pick_case(C_STREET, payee_age=88)
    neighbour = d.new_person_id()
    acct = new_account(d, neighbour, d.name())
    custody_filing(d, c["payee_id"], acct, neighbour, start=date(2026, 1, 1))
    d.pay(c, m, account=acct)
    d.near_miss("C02", [c["payee_id"], acct], "有效卡折代管备案")
    d.near_miss("C04", [c["payee_id"], acct], "有效卡折代管备案")


def bench(b: ColumnarPlanting) -> None:
    """The registered account of each planted case is held by an outsider."""
    accounts = b.group()["bank_account"]
    b.edit("accounts", pl.col("bank_account").is_in(accounts.implode()),
           holder_id=pl.col("bank_account").replace_strict(accounts, b.people(accounts.len()), default=None))


register_plant("C02", demo=demo, bench=bench)
