from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.engine.context import AuditContext
from auditor.engine.frames import reconciliation
from auditor.engine.registry import Rule, register
from checks.reconciliation.common import key_evidence, key_subject


@register
class R01(Rule):
    """无指令支付 — money left without a payment instruction.

    The fund platform paid a payee for program and month M, but the business
    system issued no instruction for that key: money moved outside the
    approved list (possible 挪用 or a fabricated payee).

    Fires: ledger paid 310…1234/dibao/2026-10 1,200.00; no payments row for it.
    Does not fire: an instruction exists for the key, even for another amount
    (that is R03), or the only ledger row is ``returned``.
    """

    code = "R01"
    name = "无指令支付"
    severity = "high"
    subject = ("person_id", "program")
    stable_facts = ("person_id", "program", "paid")
    groups = frozenset({"reconciliation_totals"})
    needs = {"payments": (), "ledger": ()}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        keys = ctx.shared(reconciliation).filter((pl.col("n_paid") > 0) & (pl.col("n_instr") == 0))
        return keys.select(
            "person_id", "program", "street", "case_id",
            amount_fen=pl.col("paid_fen"),
            title=pl.format("{}：资金内控平台支付{}笔共{}元，业务系统无对应发放指令", key_subject(ctx.month),
                            pl.col("n_paid"), yuan(pl.col("paid_fen"))),
            evidence=key_evidence(),
        )
