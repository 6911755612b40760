from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register


@register
class D02(Rule):
    """骗取资金未追回 — defrauded assistance not recovered in time.

    Fires when amount_recovered < amount_defrauded and the record was made
    more than ``recovery_days`` (default 90) days before the last day of M:
    defrauded funds must be recovered (追回骗取的社会救助金).

    Fires: 12000.00 defrauded, 2000.00 recovered, recorded 2026-05-01,
    audited 2026-10 (outstanding 10000.00).
    Does not fire: fully recovered; recorded exactly 90 days before the
    last day of M.
    """

    code = "D02"
    name = "骗取资金未追回"
    severity = "medium"
    subject = ("record_id",)
    stable_facts = ("record_id", "person_id", "defrauded")
    groups = frozenset({"graph"})
    needs = {"dishonesty": ()}
    params = ("recovery_days",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        d = ctx.table("dishonesty").with_columns(
            recovered=pl.col("amount_recovered").fill_null(0),
            days=(pl.lit(ctx.last_day) - pl.col("recorded_on")).dt.total_days())
        found = (d.filter(pl.col("amount_defrauded").is_not_null()
                          & (pl.col("recovered") < pl.col("amount_defrauded"))
                          & (pl.col("days") > ctx.profile.recovery_days))
                 .with_columns(amount_fen=pl.col("amount_defrauded") - pl.col("recovered")).sort("record_id"))
        return found.select(
            "record_id", "person_id", "amount_fen",
            title=pl.format("失信记录 {}（{}）认定已 {} 天，骗取 {} 元仅追回 {} 元，尚有 {} 元未追回",
                            pl.col("record_id"), pl.col("person_id"), pl.col("days"),
                            yuan(pl.col("amount_defrauded")), yuan(pl.col("recovered")), yuan(pl.col("amount_fen"))),
            evidence=pl.struct("record_id", "person_id", "reason", "recorded_on", "unit", "days",
                               yuan(pl.col("amount_defrauded")).alias("defrauded"),
                               yuan(pl.col("recovered")).alias("recovered"),
                               yuan(pl.col("amount_fen")).alias("outstanding")).struct.json_encode(),
        )
