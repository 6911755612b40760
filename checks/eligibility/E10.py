from __future__ import annotations

import polars as pl

from auditor.core.periods import month_index
from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_cases, table_rows, with_txn_ids
from auditor.engine.registry import Rule, register
from checks.eligibility.common import not_due, with_not_due


@register
class E10(Rule):
    """渐退期超期 — a case is still paid after its phase-out period (渐退期) ended.

    Employed 低保 households keep benefits for at most ``phase_out_months``
    (default 12) months from phase_out_start; fires for a case paid for M whose
    M is more than that many months after phase_out_start. Money at stake:
    everything paid to the case (history up to and including M) for benefit
    months more than that many months after phase_out_start; those months are
    listed in the evidence.

    Fires: phase_out_start 2025-09, M 2026-10 (13 months).
    Does not fire: phase_out_start 2025-10, M 2026-10 (exactly 12 months).
    """

    code = "E10"
    name = "渐退期超期"
    severity = "medium"
    subject = ("case_id",)
    stable_facts = ("case_id", "phase_out_start")
    needs = {"cases": ("phase_out_start",)}
    params = ("phase_out_months",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        cases = table_rows(ctx, "cases", pl.col("phase_out_start").is_not_null(),
                           ("case_id", "program", "street", "payee_id", "phase_out_start"))
        months = month_index(pl.lit(ctx.month)) - month_index(pl.col("phase_out_start"))
        hits = (ctx.shared(paid_cases).join(cases, on="case_id")  # the cases in phase-out, then the paid ones
                .with_columns(months=months)
                .filter(pl.col("months") > ctx.profile.phase_out_months))
        over = (month_index(pl.col("month")) - month_index(pl.col("phase_out_start"))) > ctx.profile.phase_out_months
        amounts = not_due(ctx, hits.select("case_id", "phase_out_start"), over, "case_id")
        out = with_txn_ids(ctx, with_not_due(hits, amounts, "case_id"), ["case_id"])
        return out.select(
            "case_id", "street", "program", pl.col("payee_id").alias("person_id"), "amount_fen",
            title=pl.format("案件{}自{}起进入渐退期，{} 已满{}个月（上限{}个月）仍在发放，超期发放{}个月共{}元",
                            pl.col("case_id"), pl.col("phase_out_start"), pl.lit(ctx.month), pl.col("months"),
                            pl.lit(ctx.profile.phase_out_months), pl.col("not_due_months").list.len(),
                            pl.col("not_due_total")),
            evidence=pl.struct("case_id", "phase_out_start", pl.col("months").alias("months_since_start"),
                               pl.lit(ctx.profile.phase_out_months).alias("phase_out_months"), "txn_ids",
                               pl.col("not_due_months").alias("months_paid_after_phase_out"),
                               pl.col("not_due_total").alias("paid_after_phase_out"))
            .struct.json_encode(),
        )
