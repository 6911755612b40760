"""C04 plants: an expired filing (card with the daughter in the case); a filing never approved
(third party); near-miss: an expired filing renewed by an approved one."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from auditor.core.periods import month_bounds
from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_relations import C_STREET, custody_filing, new_account
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m, (first, last) = d.month, month_bounds(d.month)
    c = d.pick_case(C_STREET, size=3, payee_age=82)
    daughter = d.members_of(c)[2]
    acct = new_account(d, daughter["person_id"], daughter["name"])
    custody_filing(d, c["payee_id"], acct, daughter["person_id"], start=date(2025, 1, 1),
                   end=first - timedelta(days=1))
    d.pay(c, m, account=acct)
    d.expect("C04", [c["payee_id"], acct], "卡折代管备案已于上月末到期")
    c = d.pick_case(C_STREET, payee_age=83)
    keeper = d.new_person_id()
    acct = new_account(d, keeper, d.name())
    custody_filing(d, c["payee_id"], acct, keeper, start=date(2026, 3, 1), approved_by=None)
    d.pay(c, m, account=acct)
    d.expect("C04", [c["payee_id"], acct], "卡折代管备案无审批人")
    c = d.pick_case(C_STREET, size=2, payee_age=81)
    spouse = d.members_of(c)[1]
    acct = new_account(d, spouse["person_id"], spouse["name"])
    custody_filing(d, c["payee_id"], acct, spouse["person_id"], start=date(2024, 1, 1), end=date(2025, 12, 31))
    custody_filing(d, c["payee_id"], acct, spouse["person_id"], start=date(2026, 1, 1),
                   end=last + timedelta(days=365))
    d.pay(c, m, account=acct)
    d.near_miss("C04", [c["payee_id"], acct], "过期备案已续办")


def bench(b: ColumnarPlanting) -> None:
    """The second member keeps the card under a filing that expired 40 days before M."""
    b.add("custody_filings", b.members_of().select(
        filing_id=pl.lit("CFX") + pl.col("case_id"), person_id="payee_id", bank_account="bank_account",
        custodian_id="member", custodian_name="member_name", reason=pl.lit("外出务工"),
        start_date=b.day(-400), end_date=b.day(-40), approved_by="approved_by"))


register_plant("C04", demo=demo, bench=bench)
