from __future__ import annotations

import polars as pl

from auditor.core.periods import covers
from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register
from checks.eligibility.common import member_matches


@register
class E02(Rule):
    """财政供养人员受助 — a member of a means-tested case is on the public payroll.

    People paid from public budgets (财政供养人员) are not eligible for
    means-tested assistance (``means_tested_programs``, default 低保、特困、低保边缘).
    Fires when a member of such a case paid for M has a public_payroll period
    sharing at least one day with M (an empty end is still open).

    Fires: payroll 2026-10-31 to open, case paid for 2026-10.
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
        return hits.select(
            "person_id", "street", "program", "case_id",
            title=pl.format("{}（{}）为财政供养人员（{}），仍在案件{}中享受{} 的救助",
                            pl.col("name"), pl.col("person_id"), pl.col("rows").list.first().struct.field("employer"),
                            pl.col("case_ids").list.join("、"), pl.lit(ctx.month)),
            evidence=pl.struct("person_id", "name", "case_ids", "programs",
                               pl.col("rows").alias("public_payroll")).struct.json_encode(),
        )
