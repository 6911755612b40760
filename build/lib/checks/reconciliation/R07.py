from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.engine.context import AuditContext
from auditor.engine.frames import program_label
from auditor.engine.registry import Rule, register
from checks.reconciliation.allocation import allocated_vs_paid


@register
class R07(Rule):
    """资金滞留 — allocated funds left idle.

    Funds allocated to a street for a program and month should be paid out;
    when more than ``idle_fund_ratio`` (default 5%) of the allocation is not
    disbursed, money is sitting at the street (滞留). Several allocation rows
    for one (street, program, M) are summed. The ratio compares exactly, in
    integer arithmetic.

    Fires: allocated 100,000.00, paid 94,999.99 (idle 5,000.01 > 5%).
    Does not fire: allocated 100,000.00, paid 95,000.00 (idle exactly 5%).
    """

    code = "R07"
    name = "资金滞留"
    severity = "medium"
    subject = ("street", "program")
    stable_facts = ("street", "program", "allocated", "paid")
    needs = {"allocations": (), "ledger": ()}
    params = ("idle_fund_ratio",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        num, den = ctx.profile.idle_fund_ratio.as_integer_ratio()
        idle = pl.col("alloc_fen") - pl.col("paid_fen")
        rows = ctx.shared(allocated_vs_paid).filter(
            pl.col("alloc_fen").is_not_null() & (idle * den > pl.col("alloc_fen") * num))
        return rows.select(
            "street", "program",
            amount_fen=idle,
            title=pl.format("{}{} {} 拨付{}元，实际支付{}元，滞留{}元，超过拨付额的{}", pl.col("street"),
                            program_label(pl.col("program")), pl.lit(ctx.month), yuan(pl.col("alloc_fen")),
                            yuan(pl.col("paid_fen")), yuan(idle), pl.lit(f"{ctx.profile.idle_fund_ratio:%}")),
            evidence=pl.struct(
                "street", "program", yuan(pl.col("alloc_fen")).alias("allocated"),
                pl.col("n_alloc").alias("allocation_rows"), yuan(pl.col("paid_fen")).alias("paid"),
                pl.col("n_paid").alias("paid_rows"), yuan(idle).alias("idle"),
                pl.lit(str(ctx.profile.idle_fund_ratio)).alias("idle_fund_ratio"),
            ).struct.json_encode(),
        )
