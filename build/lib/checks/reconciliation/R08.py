from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.engine.context import AuditContext
from auditor.engine.frames import program_label
from auditor.engine.registry import Rule, register
from checks.reconciliation.allocation import allocated_vs_paid


@register
class R08(Rule):
    """超拨付 — more paid than allocated.

    A street paid out more for a program and month than was allocated to it:
    money came from elsewhere (挤占) or the funds were used more widely than
    allowed (扩大使用范围). With the ``allocations`` table present, a street
    and program with payments but no allocation row counts as allocated 0.

    Fires: allocated 50,000.00, paid 50,000.01.
    Does not fire: paid exactly the allocation.
    """

    code = "R08"
    name = "超拨付"
    severity = "high"
    subject = ("street", "program")
    stable_facts = ("street", "program", "allocated", "paid")
    needs = {"allocations": (), "ledger": ()}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        alloc = pl.col("alloc_fen").fill_null(0)
        over = pl.col("paid_fen") - alloc
        rows = ctx.shared(allocated_vs_paid).filter(pl.col("paid_fen") > alloc)
        return rows.select(
            "street", "program",
            amount_fen=over,
            title=pl.format("{}{} {} 实际支付{}元，拨付额{}元，超出{}元（挤占或扩大使用范围线索）",
                            pl.col("street"), program_label(pl.col("program")), pl.lit(ctx.month),
                            yuan(pl.col("paid_fen")), yuan(alloc), yuan(over)),
            evidence=pl.struct(
                "street", "program", yuan(alloc).alias("allocated"), pl.col("n_alloc").alias("allocation_rows"),
                yuan(pl.col("paid_fen")).alias("paid"), pl.col("n_paid").alias("paid_rows"),
                yuan(over).alias("over"),
            ).struct.json_encode(),
        )
