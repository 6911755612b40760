from __future__ import annotations

import polars as pl

from auditor.core.periods import imprisoned_whole
from auditor.engine.context import AuditContext
from auditor.engine.frames import table_rows
from auditor.engine.registry import Rule, register
from checks.eligibility.common import member_matches, not_due, with_not_due


@register
class E04(Rule):
    """服刑期间发放 — benefits paid while a member serves a prison sentence.

    A member of a case paid for M has an ``imprisonment`` penalty covering the
    whole of M (start on or before the first day, end empty or on/after the
    last day). Money at stake: everything paid to the person's cases (history
    up to and including M) for benefit months lying wholly inside the
    imprisonment; those months are listed in the evidence.

    Fires: imprisoned 2026-08-01 to 2027-07-31, paid for 2026-08..2026-10 (3 months).
    Does not fire: released 2026-10-20 (M not wholly covered); probation.
    """

    code = "E04"
    name = "服刑期间发放"
    severity = "high"
    subject = ("person_id",)
    stable_facts = ("person_id", "case_ids", "imprisonment")
    groups = frozenset({"quarterly"})
    needs = {"penalties": ("kind",)}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        whole = imprisoned_whole(ctx.first_day, ctx.last_day)
        rows = pl.struct("kind", "start_date", "end_date").sort_by("start_date")
        hits = member_matches(ctx, "penalties", whole, rows)
        terms = (table_rows(ctx, "penalties", whole).join(hits.select("person_id"), on="person_id", how="semi")
                 .select("person_id", "start_date", "end_date"))
        keys = (hits.select("person_id", "case_ids").explode("case_ids").rename({"case_ids": "case_id"})
                .join(terms, on="person_id"))
        inside = (pl.col("m_first") >= pl.col("start_date")) & (
            pl.col("end_date").is_null() | (pl.col("m_last") <= pl.col("end_date")))
        amounts = not_due(ctx, keys, inside, "person_id")
        out = with_not_due(hits, amounts, "person_id")
        return out.select(
            "person_id", "street", "program", "case_id", "amount_fen",
            title=pl.format("{}（{}）自{}起服刑，案件{}仍发放至{}，服刑期间发放{}个月共{}元",
                            pl.col("name"), pl.col("person_id"), pl.col("rows").list.first().struct.field("start_date"),
                            pl.col("case_ids").list.join("、"), pl.lit(ctx.month),
                            pl.col("not_due_months").list.len(), pl.col("not_due_total")),
            evidence=pl.struct("person_id", "name", "case_ids", "programs", pl.col("rows").alias("imprisonment"),
                               pl.col("not_due_months").alias("months_paid_in_prison"),
                               pl.col("not_due_total").alias("paid_in_prison")).struct.json_encode(),
        )
