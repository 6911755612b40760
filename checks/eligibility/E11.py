from __future__ import annotations

import polars as pl

from auditor.core.money import fen_to_yuan, to_fen, yuan
from auditor.engine.context import AuditContext
from auditor.engine.frames import table_rows
from auditor.engine.registry import Rule, register


@register
class E11(Rule):
    """小金额先行救助超限 — small-amount first rescue over the per-person limit.

    Street offices may grant 小金额先行救助 before full approval, at most
    ``small_amount_limit`` (default 500) per person. Fires when the payment
    instructions of M flagged ``small_amount`` to one payee sum to more than
    the limit; splitting one grant into several small instructions does not
    avoid it. Amount at stake: the excess over the limit.

    Fires: 300.00 + 300.00 small-amount instructions to one payee.
    Does not fire: 200.00 + 300.00, exactly the limit.
    """

    code = "E11"
    name = "小金额先行救助超限"
    severity = "medium"
    subject = ("person_id",)
    stable_facts = ("person_id", "small_amount_total")
    needs = {"payments": ("small_amount",)}
    params = ("small_amount_limit",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        limit = to_fen(ctx.profile.small_amount_limit)
        small = table_rows(ctx, "payments", (pl.col("month") == ctx.month) & pl.col("small_amount"),
                           ("payment_id", "payee_id", "amount", "street", "program", "case_id"))  # the few flagged
        per = (small.sort("payment_id").group_by("payee_id").agg(
            fen=pl.col("amount").sum(), n=pl.len(), street=pl.col("street").first(),
            program=pl.col("program").first(), case_id=pl.col("case_id").drop_nulls().first(),
            payments=pl.struct("payment_id", "case_id", "program", yuan(pl.col("amount")).alias("amount")))
            .filter(pl.col("fen") > limit))
        return per.select(
            pl.col("payee_id").alias("person_id"), "street", "program", "case_id",
            amount_fen=pl.col("fen") - limit,
            title=pl.format("领款人{} {} 小金额先行救助{}笔共{}元，超过每人{}元的上限",
                            pl.col("payee_id"), pl.lit(ctx.month), pl.col("n"), yuan(pl.col("fen")),
                            pl.lit(fen_to_yuan(limit))),
            evidence=pl.struct(pl.col("payee_id"), yuan(pl.col("fen")).alias("small_amount_total"),
                               pl.lit(fen_to_yuan(limit)).alias("limit"), "payments")
            .struct.json_encode(),
        )
