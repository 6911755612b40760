from __future__ import annotations

from datetime import date

import polars as pl

from auditor.core.money import yuan
from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_rows, program_label
from auditor.engine.registry import Rule, register

EVIDENCE_ROWS = 50  # rows listed in evidence; count and sum always cover all


@register
class R06(Rule):
    """拨付不及时 — benefits paid after the monthly deadline.

    Benefits for month M should reach recipients by day
    ``disbursement_deadline_day`` (default 10) of M; later payments point to
    funds held up (滞留) at the street. One finding per street and program,
    with the count and sum of the late payments.

    Fires: benefit month 2026-10 paid on 2026-10-11.
    Does not fire: paid on 2026-10-10, exactly the deadline day.
    """

    code = "R06"
    name = "拨付不及时"
    severity = "low"
    subject = ("street", "program")
    stable_facts = ("street", "program", "late_count", "late_total")
    needs = {"ledger": ("paid_on",)}
    params = ("disbursement_deadline_day",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        deadline = date(ctx.first_day.year, ctx.first_day.month, ctx.profile.disbursement_deadline_day)
        late = ctx.shared(paid_rows).filter(pl.col("paid_on") > deadline)
        groups = late.sort("paid_on", "txn_id").group_by("street", "program").agg(
            n=pl.len(), fen=pl.col("amount").sum(), last=pl.col("paid_on").max(),
            rows=pl.struct("txn_id", "payee_id", yuan(pl.col("amount")).alias("amount"), "paid_on").head(EVIDENCE_ROWS))
        return groups.select(
            "street", "program",
            amount_fen=pl.col("fen"),
            title=pl.format("{}{} {} 有{}笔共{}元在{}之后才支付（最晚{}）", pl.col("street"),
                            program_label(pl.col("program")), pl.lit(ctx.month), pl.col("n"),
                            yuan(pl.col("fen")), pl.lit(deadline.isoformat()), pl.col("last")),
            evidence=pl.struct(
                "street", "program", pl.lit(deadline).alias("deadline"), pl.col("n").alias("late_count"),
                yuan(pl.col("fen")).alias("late_total"), pl.col("rows").alias("late_rows"),
            ).struct.json_encode(),
        )
