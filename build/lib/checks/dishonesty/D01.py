from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.core.periods import restriction_covers
from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_members_of
from auditor.engine.registry import Rule, register


@register
class D01(Rule):
    """失信人员仍受助 — a person under a dishonesty restriction is still assisted.

    一处失信、他处受限: a person whose dishonesty restriction covers M
    (recorded on or before the last day of M, restricted_until empty or on or
    after the first day of M) must not be a member of a case paid for M.

    Fires: record D7 of 2026-03-01 with no end, the person is a member of a
    case paid for 2026-10.
    Does not fire: the restriction ended 2026-09-30; the record is dated
    after the end of M.
    """

    code = "D01"
    name = "失信人员仍受助"
    severity = "high"
    subject = ("person_id",)
    stable_facts = ("person_id", "record_ids", "case_ids")
    groups = frozenset({"graph"})
    needs = {"dishonesty": ()}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        records = ctx.table("dishonesty").filter(restriction_covers(ctx.first_day, ctx.last_day))
        hits = paid_members_of(ctx, records)
        per = hits.group_by("person_id").agg(
            pl.col("street").sort().first(), pl.col("program").sort().first(),
            case_id=pl.col("case_id").sort().first(), cases=pl.col("case_id").unique().sort(),
            paid_cases=pl.struct("case_id", yuan(pl.col("paid_fen")).alias("paid")).unique().sort_by("case_id"),
            amount_fen=pl.struct("case_id", "paid_fen").unique().struct.field("paid_fen").sum())
        recs = records.group_by("person_id").agg(records=pl.struct(
            "record_id", "reason", "recorded_on", "restricted_until", "unit").sort_by("record_id"),
            record_ids=pl.col("record_id").unique().sort())
        found = per.join(recs, on="person_id").sort("person_id")
        return found.select(
            "person_id", "street", "program", "case_id", "amount_fen",
            title=pl.format("失信人员 {} 仍是本月已发放案件 {} 的成员（{} 元），限制期内不应受助",
                            pl.col("person_id"), pl.col("cases").list.join("、"), yuan(pl.col("amount_fen"))),
            evidence=pl.struct("person_id", "records", "paid_cases", "record_ids",
                               pl.col("cases").alias("case_ids")).struct.json_encode(),
        )
