"""C03 plants: a cadre is the filed custodian; a case worker holds the account (filed too);
near-miss: the custodian left the post before M."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from auditor.core.periods import month_bounds
from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_eligibility import paid_case
from auditor.demo.plant_relations import C_STREET, custody_filing, new_account
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m, (first, _) = d.month, month_bounds(d.month)
    cadre = d.new_staff(C_STREET, "cadre")
    c = paid_case(d, C_STREET, payee_age=90)
    custody_filing(d, c["payee_id"], c["bank_account"], cadre["person_id"], start=date(2026, 2, 1))
    d.expect("C03", [cadre["staff_id"], c["payee_id"]], "村居干部代管受助人银行卡")
    worker = d.new_staff(C_STREET, "case_worker")
    c = d.pick_case(C_STREET, payee_age=86)
    acct = new_account(d, worker["person_id"], worker["name"])
    custody_filing(d, c["payee_id"], acct, worker["person_id"], start=date(2025, 6, 1))
    d.pay(c, m, account=acct)
    d.expect("C03", [worker["staff_id"], c["payee_id"]], "救助金打入经办人名下账户")
    former = d.new_staff(C_STREET, "cadre", active_to=first - timedelta(days=40))
    c = paid_case(d, C_STREET, payee_age=84)
    custody_filing(d, c["payee_id"], c["bank_account"], former["person_id"], start=date(2025, 1, 1))
    d.near_miss("C03", [former["staff_id"], c["payee_id"]], "代管人已离任")


def bench(b: ColumnarPlanting) -> None:
    """The registered account of each planted case is held by a cadre of its street."""
    held = b.group().join(b.street_staff("cadre"), on="street", maintain_order="left")
    b.edit("accounts", pl.col("bank_account").is_in(held["bank_account"].implode()),
           holder_id=pl.col("bank_account").replace_strict(held["bank_account"], held["staff_pid"], default=None))


register_plant("C03", demo=demo, bench=bench)
