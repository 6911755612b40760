from __future__ import annotations

from decimal import Decimal

import polars as pl

from auditor.core.money import fen_to_yuan, yuan
from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, RuleNotRun, register
from checks.standards.common import SCALE, active_with_members, ceil_unscaled, scaled, standard_in_force


@register
class S02(Rule):
    """超标准核定 — a 低保 case approved above the standard for its household.

    A 低保 household's benefit is at most the 低保 standard for each member
    (超标准发放 is what national audits of 低保 funds report). Fires when an
    active ``dibao`` case's ``monthly_amount`` is more than the 低保 standard in
    force in M (the ``standards`` row with the latest from_month <= M) × (1 +
    ``dibao_supplement_ratio``) × its number of members, compared exactly in
    fen. Amount at stake: the excess (a fraction of a fen counts as one fen).
    A case without a members row is skipped and counted in the run summary.

    Fires: standard 1,500.00, 2 members, approved 3,000.01 (0.01 at stake).
    Does not fire: approved exactly 3,000.00; a standard raised from the month after M is not yet in force.
    """

    code = "S02"
    name = "超标准核定"
    severity = "medium"
    subject = ("case_id",)
    stable_facts = ("case_id", "monthly_amount", "members", "standard")
    needs = {"standards": ()}
    params = ("dibao_supplement_ratio",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        found = standard_in_force(ctx, "dibao")
        if found is None:
            raise RuleNotRun(f"数据表 standards 中没有{ctx.month}时有效的低保标准（no dibao standard in force）")
        std, since = found
        ratio = Decimal(str(ctx.profile.dibao_supplement_ratio))
        per_member = std * (SCALE + scaled(ratio))  # scaled fen per member
        cases = active_with_members(self, ctx, "dibao").with_columns(
            limit=pl.col("members").cast(pl.Int64) * per_member)
        over = cases.filter(pl.col("monthly_amount") * SCALE > pl.col("limit")).with_columns(
            excess=ceil_unscaled(pl.col("monthly_amount") * SCALE - pl.col("limit")),
            limit_fen=pl.col("limit") // SCALE)
        return over.select(
            "case_id", "street", "program", pl.col("payee_id").alias("person_id"),
            amount_fen=pl.col("excess"),
            title=pl.format("低保案件{}月救助金额{}元，超过{}元标准（{}人，每人{}元{}），超出{}元",
                            pl.col("case_id"), yuan(pl.col("monthly_amount")), yuan(pl.col("limit_fen")),
                            pl.col("members"), pl.lit(fen_to_yuan(std)),
                            pl.lit(f"×(1+{format(ratio, 'f')})" if ratio else ""), yuan(pl.col("excess"))),
            evidence=pl.struct("case_id", yuan(pl.col("monthly_amount")).alias("monthly_amount"), "members",
                               pl.lit(fen_to_yuan(std)).alias("standard"), pl.lit(since).alias("standard_from"),
                               pl.lit(format(ratio, "f")).alias("supplement_ratio"),
                               yuan(pl.col("limit_fen")).alias("limit"),
                               yuan(pl.col("excess")).alias("excess")).struct.json_encode(),
        )
