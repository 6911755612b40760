from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register
from auditor.engine.relations import (
    account_node,
    active_staff,
    chain,
    covering_filings,
    node,
    paid_accounts,
    staff_label,
)
from checks.custody.common import by_subject, evidence


@register
class C03(Rule):
    """干部代管卡折 — a staff member holds an assisted person's card or passbook.

    The holder of an account paid for M, or the custodian named by a custody
    filing covering one, is a staff member active in M other than the payee:
    staff must not keep beneficiaries' cards, filed or not.

    Fires: 低保 of 张三 paid to an account held by cadre S0012; a custody
    filing for 张三's account names S0012 as custodian.
    Does not fire: the custodian is the payee's daughter; the staff member
    left the post before M.
    """

    code = "C03"
    name = "干部代管卡折"
    severity = "high"
    subject = ("staff_id", "person_id")
    stable_facts = ("staff_id", "person_id", "ways", "filings")
    groups = frozenset({"drawn", "graph"})
    needs = {"staff": (), "accounts": (), "custody_filings": ()}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        per = ctx.shared(paid_accounts)
        staff = ctx.shared(active_staff).select(
            "staff_id", pl.col("person_id").alias("staff_pid"),
            *[pl.col(c).alias("s_" + c) for c in ("name", "role", "street")])
        staff_accounts = (ctx.table("accounts", "bank_account", "holder_id").rename({"holder_id": "staff_pid"})
                          .join(staff, on="staff_pid"))
        by_holder = (per.join(staff_accounts, on="bank_account")
                     .with_columns(how=pl.lit("开户人"), filing_id=pl.lit(None, pl.String)))
        by_custody = (per.join(ctx.shared(covering_filings).select(
                          pl.col("person_id").alias("payee_id"), "bank_account", "filing_id",
                          pl.col("custodian_id").alias("staff_pid")), on=["payee_id", "bank_account"])
                      .join(staff, on="staff_pid")
                      .with_columns(how=pl.lit("代管人")))
        rows = (pl.concat([by_holder, by_custody], how="diagonal")
                .filter(pl.col("staff_pid") != pl.col("payee_id"))
                .with_columns(person_id=pl.col("payee_id")))
        held = chain(account_node(), (pl.col("how"), node("S", pl.col("staff_id"), staff_label())))
        ways = rows.group_by("staff_id", "person_id").agg(ways=pl.col("how").unique().sort(),
                                                          filings=pl.col("filing_id").drop_nulls().unique().sort())
        found = by_subject(ctx, rows, ["staff_id", "person_id"], [pl.col("chain"), held]).join(
            ways, on=["staff_id", "person_id"])
        return found.select(
            "staff_id", "person_id", "street", "amount_fen",
            title=pl.format("工作人员 {} 是领款人 {} 收款账户的{}，本月经手救助金 {} 元，干部不得代管卡折",
                            pl.col("staff_id"), pl.col("person_id"), pl.col("ways").list.join("、"), pl.col("paid")),
            evidence=evidence("staff_id", "person_id", "ways", "filings"),
        )
