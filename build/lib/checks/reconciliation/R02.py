from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.engine.context import AuditContext
from auditor.engine.frames import reconciliation
from auditor.engine.registry import Rule, register
from checks.reconciliation.common import key_evidence, key_subject


@register
class R02(Rule):
    """应发未发 — instructed but not disbursed.

    The business system instructed a payment for the key but the platform has
    no paid row: the money may be held back (截留/滞留) or the payment failed
    and was never re-sent. Returned/failed rows are shown as evidence.

    Fires: instruction 310…1234/dibao/2026-10 1,200.00; ledger row ``returned``.
    Does not fire: a paid row exists for the key, whatever its amount.
    """

    code = "R02"
    name = "应发未发"
    severity = "high"
    subject = ("person_id", "program")
    stable_facts = ("person_id", "program", "instructed")
    groups = frozenset({"reconciliation_totals"})
    needs = {"payments": (), "ledger": ()}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        keys = ctx.shared(reconciliation).filter((pl.col("n_instr") > 0) & (pl.col("n_paid") == 0))
        n_failed = pl.col("not_paid").list.len().fill_null(0)
        return keys.select(
            "person_id", "program", "street", "case_id",
            amount_fen=pl.col("instructed_fen"),
            title=pl.format("{}：业务系统发放指令{}元，资金内控平台无成功支付（退回/失败{}笔），疑似截留或滞留",
                            key_subject(ctx.month), yuan(pl.col("instructed_fen")), n_failed),
            evidence=key_evidence(),
        )
