from __future__ import annotations

import polars as pl

from auditor.core.vocab import CASE_STATUS_LABELS
from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_cases, table_rows, with_txn_ids
from auditor.engine.registry import Rule, register
from checks.eligibility.common import not_due, with_not_due


@register
class E08(Rule):
    """终止后发放 — a case terminated or suspended is still paid.

    Fires when a paid ledger row for M belongs to a case whose end_month is
    before M, or whose status is ``suspended``. Money at stake, from the paid
    ledger history up to and including M: for a case with end_month before M,
    every paid month after end_month; otherwise (suspended, end_month empty or
    not yet passed) only the payment for M, since the snapshot does not say
    when the suspension began. The months are listed in the evidence.

    Fires: terminated, end_month 2026-08, paid for 2026-09 and 2026-10.
    Does not fire: terminated with end_month 2026-10 (M itself still due).
    """

    code = "E08"
    name = "终止后发放"
    severity = "high"
    subject = ("case_id",)
    stable_facts = ("case_id", "status", "end_month")

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        cases = table_rows(ctx, "cases", (pl.col("end_month") < ctx.month) | (pl.col("status") == "suspended"),
                           ("case_id", "program", "street", "payee_id", "status", "end_month"))
        hits = ctx.shared(paid_cases).join(cases, on="case_id")  # the few ended cases, then the paid ones
        ended = pl.col("end_month").is_not_null() & (pl.col("end_month") < ctx.month)
        keys = hits.select("case_id", "end_month", ended.alias("ended"))
        amounts = not_due(ctx, keys, pl.when(pl.col("ended")).then(pl.col("month") > pl.col("end_month"))
                          .otherwise(pl.col("month") == ctx.month), "case_id")
        out = with_txn_ids(ctx, with_not_due(hits, amounts, "case_id"), ["case_id"])
        status = pl.col("status").replace_strict(CASE_STATUS_LABELS)
        return out.select(
            "case_id", "street", "program", pl.col("payee_id").alias("person_id"), "amount_fen",
            title=pl.format("案件{}状态为{}（终止月份{}），{} 仍有支付，不应发放{}个月共{}元",
                            pl.col("case_id"), status, pl.col("end_month").fill_null("空"), pl.lit(ctx.month),
                            pl.col("not_due_months").list.len(), pl.col("not_due_total")),
            evidence=pl.struct("case_id", "status", "end_month", "txn_ids",
                               pl.col("not_due_months").alias("months_not_due"),
                               pl.col("not_due_total").alias("paid_not_due")).struct.json_encode(),
        )
