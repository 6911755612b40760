from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.engine.context import AuditContext
from auditor.engine.frames import reconciliation
from auditor.engine.registry import Rule, register
from checks.reconciliation.common import duplicate_condition, key_evidence, key_subject


@register
class R03(Rule):
    """金额不一致 — paid total differs from the instructed amount.

    Both sides have the key but the paid sum differs from the instructed sum
    to the fen: over- or under-payment. When the difference comes from a
    duplicate disbursement R05 reports it and R03 stays silent.

    Fires: instructed 1,200.00, one paid row of 1,020.00 (difference 180.00).
    Does not fire: instructed 1,200.00 paid as 1,200.00; or two paid rows
    against one instruction (R05).
    """

    code = "R03"
    name = "金额不一致"
    severity = "medium"
    subject = ("person_id", "program")
    stable_facts = ("person_id", "program", "instructed", "paid")
    groups = frozenset({"reconciliation_totals"})
    needs = {"payments": (), "ledger": ()}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        keys = ctx.shared(reconciliation).filter(
            (pl.col("n_instr") > 0) & (pl.col("n_paid") > 0)
            & (pl.col("paid_fen") != pl.col("instructed_fen")) & ~duplicate_condition())
        diff = pl.col("paid_fen") - pl.col("instructed_fen")
        return keys.select(
            "person_id", "program", "street", "case_id",
            amount_fen=diff.abs(),
            title=pl.format("{}：指令金额{}元，实际支付{}元，{}{}元", key_subject(ctx.month),
                            yuan(pl.col("instructed_fen")), yuan(pl.col("paid_fen")),
                            pl.when(diff > 0).then(pl.lit("多付")).otherwise(pl.lit("少付")), yuan(diff.abs())),
            evidence=key_evidence(yuan(diff).alias("difference")),
        )
