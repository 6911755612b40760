from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register


@register
class D03(Rule):
    """失信记录未报送 — a dishonesty record not reported to the joint-meeting office in time.

    Records must reach the joint-meeting office (联席会议办公室) within
    ``report_days`` (default 30) so member units can restrict the person
    elsewhere. Fires for a record made on or before the last day of M that
    was reported (by the end of M) more than ``report_days`` after it was
    made, or that is unreported (empty, or reported after M) while the last day of M is more
    than ``report_days`` after it was made.

    Fires: recorded 2026-08-01, not reported by 2026-10-31; recorded
    2026-01-01, reported 2026-03-15.
    Does not fire: reported 30 days after recording; recorded 2026-10-15 and
    not yet reported.
    """

    code = "D03"
    name = "失信记录未报送"
    severity = "low"
    subject = ("record_id",)
    stable_facts = ("record_id", "person_id", "recorded_on", "reported_on")
    groups = frozenset({"graph"})
    needs = {"dishonesty": ()}
    params = ("report_days",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        limit = ctx.profile.report_days
        d = ctx.table("dishonesty").filter(pl.col("recorded_on") <= ctx.last_day).with_columns(
            delay=(pl.col("reported_on") - pl.col("recorded_on")).dt.total_days(),
            waiting=(pl.lit(ctx.last_day) - pl.col("recorded_on")).dt.total_days())
        unreported = pl.col("reported_on").is_null() | (pl.col("reported_on") > ctx.last_day)
        late = (pl.col("reported_on") <= ctx.last_day) & (pl.col("delay") > limit)
        found = d.filter(late.fill_null(False) | (unreported & (pl.col("waiting") > limit))).sort("record_id")
        return found.select(
            "record_id", "person_id",
            title=pl.when(late.fill_null(False))
            .then(pl.format("失信记录 {}（{}）认定后 {} 天才报送联席会议办公室，超过 {} 天时限",
                            pl.col("record_id"), pl.col("person_id"), pl.col("delay"), pl.lit(limit)))
            .otherwise(pl.format("失信记录 {}（{}）认定已 {} 天仍未报送联席会议办公室（时限 {} 天）",
                                 pl.col("record_id"), pl.col("person_id"), pl.col("waiting"), pl.lit(limit))),
            evidence=pl.struct("record_id", "person_id", "recorded_on", "reported_on", "delay", "waiting",
                               "unit").struct.json_encode(),
        )
