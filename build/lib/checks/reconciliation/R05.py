from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_rows, reconciliation
from auditor.engine.registry import Rule, register
from checks.reconciliation.common import duplicate_condition, key_evidence, key_subject


@register
class R05(Rule):
    """重复支付 — the same benefit paid more than once.

    Two or more paid rows for a key, and more paid rows than instructions:
    a duplicate disbursement to recover. The money at stake is the sum of the
    paid rows beyond the instructed count (at least one row is taken as the
    original when there is no instruction, which R01 reports), in payment order.

    Fires: one instruction of 1,200.00, two paid rows of 1,200.00 (at stake 1,200.00).
    Does not fire: two instructions (e.g. a back-payment) and two paid rows.
    """

    code = "R05"
    name = "重复支付"
    severity = "high"
    subject = ("person_id", "program")
    stable_facts = ("person_id", "program", "instructed", "paid")
    groups = frozenset({"reconciliation_totals"})
    needs = {"payments": (), "ledger": ()}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        key = ["payee_id", "program"]
        keys = ctx.shared(reconciliation).filter(duplicate_condition())
        extra = (ctx.shared(paid_rows).join(keys.select(*key, "n_instr"), on=key, how="inner")
                 .sort(*key, "paid_on", "txn_id", nulls_last=True)
                 .filter(pl.int_range(pl.len()).over(key) >= pl.max_horizontal(pl.col("n_instr"), 1))
                 .group_by(key).agg(extra_fen=pl.col("amount").sum(), extra_txns=pl.col("txn_id")))
        keys = keys.join(extra, on=key, how="left")
        return keys.select(
            "person_id", "program", "street", "case_id",
            amount_fen=pl.col("extra_fen"),
            title=pl.format("{}：发放指令{}笔，资金内控平台成功支付{}笔共{}元，多支付{}元", key_subject(ctx.month),
                            pl.col("n_instr"), pl.col("n_paid"), yuan(pl.col("paid_fen")),
                            yuan(pl.col("extra_fen"))),
            evidence=key_evidence(pl.col("extra_txns")),
        )
