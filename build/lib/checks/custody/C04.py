from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register
from auditor.engine.relations import account_node, chain, node, paid_accounts
from checks.custody.common import by_subject, evidence


@register
class C04(Rule):
    """代管备案失效 — the custody filing for a paid account has lapsed or was never approved.

    A paid row for M went to an account whose custody filing for that payee
    ended before M or has no approver, and no valid filing (approved, period
    covering M) covers it: the custody arrangement must be renewed or ended.

    Fires: filing CF1 for (张三, 6222…) ended 2026-06-30, paid in 2026-10.
    Does not fire: an expired filing replaced by an approved filing covering
    M; a filing ending on the first day of M.
    """

    code = "C04"
    name = "代管备案失效"
    severity = "medium"
    subject = ("person_id", "bank_account")
    stable_facts = ("person_id", "bank_account", "filings")
    groups = frozenset({"drawn", "graph"})
    needs = {"custody_filings": ()}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        filings = ctx.table("custody_filings").select(
            pl.col("person_id").alias("payee_id"), "bank_account", "filing_id", "start_date", "end_date",
            "approved_by")
        valid = filings.filter((pl.col("start_date") <= ctx.last_day) & pl.col("approved_by").is_not_null()
                               & (pl.col("end_date").is_null() | (pl.col("end_date") >= ctx.first_day)))
        lapsed = filings.filter((pl.col("end_date") < ctx.first_day) | pl.col("approved_by").is_null())
        rows = (ctx.shared(paid_accounts).join(lapsed, on=["payee_id", "bank_account"])
                .join(valid.select("payee_id", "bank_account"), on=["payee_id", "bank_account"], how="anti")
                .with_columns(person_id=pl.col("payee_id"),
                              why=pl.when(pl.col("approved_by").is_null()).then(pl.lit("无审批人"))
                              .otherwise(pl.format("已于 {} 终止", pl.col("end_date")))))
        label = pl.format("备案 {} ({})", pl.col("filing_id"), pl.col("why"))
        filing = chain(account_node(), ("代管备案", node("F", pl.col("filing_id"), label)))
        info = rows.group_by("person_id", "bank_account").agg(
            filings=pl.struct("filing_id", "start_date", "end_date", "approved_by", "why").sort_by("filing_id"),
            whys=pl.col("why").unique().sort())
        found = by_subject(ctx, rows, ["person_id", "bank_account"], [pl.col("chain"), filing]).join(
            info, on=["person_id", "bank_account"])
        return found.select(
            "person_id", "bank_account", "street", "amount_fen",
            title=pl.format("领款人 {} 的救助金 {} 元支付至代管账户 {}，其卡折代管备案{}，且无有效备案",
                            pl.col("person_id"), pl.col("paid"), pl.col("bank_account"),
                            pl.col("whys").list.join("、")),
            evidence=evidence("person_id", "bank_account", "filings"),
        )
