from __future__ import annotations

import polars as pl

from auditor.core.money import to_fen, yuan
from auditor.core.periods import covers, month_index
from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_members_of, table_rows
from auditor.engine.registry import Rule, register
from checks.eligibility.common import EVIDENCE_ROWS, member_cases, paid_for_month


@register
class E05(Rule):
    """就业收入线索 — a member of a means-tested case is employed with income over the floor.

    Employment registered for a member (就业登记) covering M with
    monthly_income >= ``employment_income_floor`` (default 2000) suggests the
    household's income changed; employed 低保 households in their phase-out
    period (渐退期: from phase_out_start for ``phase_out_months`` months) are
    expected to have income and do not fire. Money at risk if confirmed: what
    the person's means-tested cases were paid for M.

    Fires: employed since 2026-03-01 at 2,000.00 a month, no phase-out.
    Does not fire: 1,999.99 a month; or the case's phase-out started 2026-04.
    """

    code = "E05"
    name = "就业收入线索"
    severity = "low"
    subject = ("person_id",)
    stable_facts = ("person_id", "case_ids", "jobs")
    groups = frozenset({"quarterly"})
    needs = {"employment": ("monthly_income",)}
    params = ("means_tested_programs", "employment_income_floor", "phase_out_months")

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        since = month_index(pl.lit(ctx.month)) - month_index(pl.col("phase_out_start"))
        in_phase_out = pl.col("phase_out_start").is_not_null() & (since >= 0) & (since <= ctx.profile.phase_out_months)
        employed = table_rows(ctx, "employment", covers("start_date", "end_date", ctx.first_day, ctx.last_day)
                              & (pl.col("monthly_income") >= to_fen(ctx.profile.employment_income_floor)))
        members = paid_members_of(ctx, employed).filter(
            pl.col("program").is_in(list(ctx.profile.means_tested_programs)) & ~in_phase_out)
        jobs = (employed.join(members.select("person_id").unique(), on="person_id", how="semi")
                .group_by("person_id").agg(
                    income_fen=pl.col("monthly_income").max(),
                    jobs=pl.struct("employer", yuan(pl.col("monthly_income")).alias("monthly_income"),
                                   "start_date", "end_date").sort_by("start_date").head(EVIDENCE_ROWS)))
        out = (member_cases(members.join(jobs, on="person_id", how="semi")).join(jobs, on="person_id")
               .join(paid_for_month(members), on="person_id", how="left"))
        return out.select(
            "person_id", "street", "program", "case_id", "amount_fen",
            title=pl.format("{}（{}）{} 有就业登记，月收入{}元，案件{}未处于渐退期，请核查家庭收入（当月发放{}元）",
                            pl.col("name"), pl.col("person_id"), pl.lit(ctx.month), yuan(pl.col("income_fen")),
                            pl.col("case_ids").list.join("、"), yuan(pl.col("amount_fen"))),
            evidence=pl.struct("person_id", "name", "case_ids", "programs", "jobs",
                               yuan(pl.col("amount_fen")).alias("paid_in_month")).struct.json_encode(),
        )
