from __future__ import annotations

import polars as pl

from auditor.core.periods import covers
from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register
from checks.eligibility.common import member_matches, not_due, with_not_due


@register
class E02(Rule):
    """财政供养人员受助 — a member of a means-tested case is on the public payroll.

    People paid from public budgets (财政供养人员) are not eligible for
    means-tested assistance (``means_tested_programs``, default 低保、特困、低保边缘).
    Fires when a member of such a case paid for M has a public_payroll period
    sharing at least one day with M (an empty end is still open). Money at
    stake: everything paid to the person's means-tested cases (paid ledger
    rows, history up to and including M) for benefit months that a payroll
    period shares a day with; those months are listed in the evidence.

    Fires: payroll 2026-09-15 to open, case paid for 2026-09 and 2026-10 (2 months at stake).
    Does not fire: payroll ended 2026-09-30, before M; or a temporary-assistance case.
    """

    code = "E02"
    name = "财政供养人员受助"
    severity = "high"
    subject = ("person_id",)
    stable_facts = ("person_id", "case_ids", "public_payroll")
    groups = frozenset({"quarterly"})
    needs = {"public_payroll": ("start_date",)}
    params = ("means_tested_programs",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        hits = member_matches(ctx, "public_payroll", covers("start_date", "end_date", ctx.first_day, ctx.last_day),
                              pl.struct("employer", "start_date", "end_date").sort_by("start_date"),
                              programs=list(ctx.profile.means_tested_programs))
        periods = (ctx.table("public_payroll").join(hits.select("person_id"), on="person_id", how="semi")
                   .select("person_id", "start_date", "end_date"))
        keys = (hits.select("person_id", "case_ids").explode("case_ids").rename({"case_ids": "case_id"})
                .join(periods, on="person_id"))
        amounts = not_due(ctx, keys, covers("start_date", "end_date", pl.col("m_first"), pl.col("m_last")),
                          "person_id")
        out = with_not_due(hits, amounts, "person_id")
        return out.select(
            "person_id", "street", "program", "case_id", "amount_fen",
            title=pl.format("{}（{}）为财政供养人员（{}），仍在案件{}中享受{} 的救助，财政供养期间发放{}个月共{}元",
                            pl.col("name"), pl.col("person_id"),
                            pl.col("rows").list.first().struct.field("employer").fill_null("单位未登记"),
                            pl.col("case_ids").list.join("、"), pl.lit(ctx.month),
                            pl.col("not_due_months").list.len(), pl.col("not_due_total")),
            evidence=pl.struct("person_id", "name", "case_ids", "programs",
                               pl.col("rows").alias("public_payroll"),
                               pl.col("not_due_months").alias("months_paid_on_payroll"),
                               pl.col("not_due_total").alias("paid_on_payroll")).struct.json_encode(),
        )
