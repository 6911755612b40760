from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register
from checks.eligibility.common import member_matches, not_due, with_not_due


@register
class E01(Rule):
    """身故后发放 — benefits still paid for a member who has died.

    A member of a case paid for M died before the first day of M (民政与公安、
    卫健身故信息共享). A death during M does not fire: that month's benefit was
    still due. Money at stake: everything paid to the person's cases (paid
    ledger rows, history up to and including M) for benefit months whose first
    day is after ``died_on``; those months are listed in the evidence.

    Fires: died 2026-08-15, case paid for 2026-09 and 2026-10 (M) — 2 months at stake.
    Does not fire: died 2026-10-03, during M.
    """

    code = "E01"
    name = "身故后发放"
    severity = "high"
    subject = ("person_id",)
    stable_facts = ("person_id", "case_ids", "died_on")
    groups = frozenset({"quarterly"})
    needs = {"deaths": ("died_on",)}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        hits = member_matches(ctx, "deaths", pl.col("died_on") < ctx.first_day,
                              pl.col("died_on").sort())
        hits = hits.with_columns(died_on=pl.col("rows").list.first())
        keys = hits.select("person_id", "died_on", "case_ids").explode("case_ids").rename({"case_ids": "case_id"})
        amounts = not_due(ctx, keys, pl.col("m_first") > pl.col("died_on"), "person_id")
        out = with_not_due(hits, amounts, "person_id")
        return out.select(
            "person_id", "street", "program", "case_id", "amount_fen",
            title=pl.format("{}（{}）已于{}身故，案件{}仍发放至{}，身故后发放{}个月共{}元",
                            pl.col("name"), pl.col("person_id"), pl.col("died_on"),
                            pl.col("case_ids").list.join("、"), pl.lit(ctx.month),
                            pl.col("not_due_months").list.len(), pl.col("not_due_total")),
            evidence=pl.struct("person_id", "name", "died_on", "case_ids", "programs",
                               pl.col("not_due_months").alias("months_paid_after_death"),
                               pl.col("not_due_total").alias("paid_after_death")).struct.json_encode(),
        )
