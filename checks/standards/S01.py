from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.engine.context import AuditContext
from auditor.engine.frames import table_rows
from auditor.engine.registry import Rule, register

MONTHLY = pl.col("program") != "temporary"


@register
class S01(Rule):
    """超审批金额发放 — a case is instructed more for M than its approved monthly amount.

    The reconciliation compares instructions with disbursements, so an
    instruction inflated together with its disbursement passes every R rule;
    this compares the instructions with what was approved. Fires when the
    payment instructions of M for a case of a monthly program (every program
    but 临时救助 ``temporary``), leaving out rows flagged ``small_amount``,
    sum to more than the case's ``monthly_amount``. Amount at stake: the excess.

    Fires: approved 1,200.00, instructed 1,200.00 + 300.00 for 2026-10 (300.00 at stake).
    Does not fire: instructed exactly 1,200.00; a temporary or small-amount instruction on top.
    """

    code = "S01"
    name = "超审批金额发放"
    severity = "high"
    subject = ("case_id",)
    stable_facts = ("case_id", "monthly_amount")

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        # Only the columns read, of the rows counted (national: 28 M instructions; the whole shared
        # instructions frame and the cases' text columns held 4 GiB more)
        rows = table_rows(ctx, "payments", (pl.col("month") == ctx.month) & MONTHLY
                          & ~pl.col("small_amount").fill_null(False) & pl.col("case_id").is_not_null(),
                          ("payment_id", "case_id", "amount"))
        per_case = rows.group_by("case_id").agg(instructed_fen=pl.col("amount").sum(), n=pl.len())
        over = (per_case.join(table_rows(ctx, "cases", MONTHLY, ("case_id", "monthly_amount")), on="case_id",
                              how="inner")
                .filter(pl.col("instructed_fen") > pl.col("monthly_amount")))
        over = over.join(table_rows(ctx, "cases", pl.col("case_id").is_in(over["case_id"].implode()),
                                    ("case_id", "program", "street", "payee_id")), on="case_id", how="inner")
        payments = (rows.join(over.select("case_id"), on="case_id", how="semi").sort("payment_id")
                    .group_by("case_id").agg(payment_ids=pl.col("payment_id")))
        out = over.join(payments, on="case_id", how="left").with_columns(
            excess=pl.col("instructed_fen") - pl.col("monthly_amount"))
        return out.select(
            "case_id", "street", "program", pl.col("payee_id").alias("person_id"),
            amount_fen=pl.col("excess"),
            title=pl.format("案件{} {} 发放指令{}笔共{}元，超过审批月救助金额{}元，超出{}元",
                            pl.col("case_id"), pl.lit(ctx.month), pl.col("n"), yuan(pl.col("instructed_fen")),
                            yuan(pl.col("monthly_amount")), yuan(pl.col("excess"))),
            evidence=pl.struct("case_id", "program", yuan(pl.col("monthly_amount")).alias("monthly_amount"),
                               yuan(pl.col("instructed_fen")).alias("instructed"),
                               yuan(pl.col("excess")).alias("excess"), "payment_ids").struct.json_encode(),
        )
