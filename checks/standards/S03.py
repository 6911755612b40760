from __future__ import annotations

from decimal import Decimal

import polars as pl

from auditor.core.money import fen_to_yuan, yuan
from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, RuleNotRun, register
from checks.standards.common import SCALE, active_with_members, ceil_unscaled, scaled, standard_in_force


@register
class S03(Rule):
    """特困供养低于标准 — a 特困 case's support per member is below its floor.

    特困 basic living support must not fall below the 特困 standard; where the
    district publishes none, the seeds set it as a multiple of the 低保
    standard (大通湖: at least 1.3 times). Fires when an active ``tekun`` case's
    ``monthly_amount`` divided by its number of members is below the 特困
    standard in force in M or, when the drop has none, below
    ``tekun_floor_ratio`` × the 低保 standard in force; compared exactly in fen.
    Amount at stake: the month's shortfall for the case, floor × members −
    monthly_amount. Without a 特困 standard and without the ratio the rule is not
    run. A case without a members row is skipped and counted in the run summary.

    Fires: 特困 standard 2,000.00, one member, approved 1,999.99 (0.01 short).
    Does not fire: approved exactly 2,000.00; a standard raised from the month after M.
    """

    code = "S03"
    name = "特困供养低于标准"
    severity = "medium"
    subject = ("case_id",)
    stable_facts = ("case_id", "monthly_amount", "members", "floor")
    needs = {"standards": ()}
    params = ("tekun_floor_ratio",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        tekun, ratio = standard_in_force(ctx, "tekun"), ctx.profile.tekun_floor_ratio
        ratio = None if ratio is None else Decimal(str(ratio))
        if tekun is not None:
            floor, since = tekun[0] * SCALE, tekun[1]
            basis = f"特困供养标准{fen_to_yuan(tekun[0])}元（{since}起）"
        elif ratio is None:
            raise RuleNotRun(f"数据表 standards 中没有{ctx.month}时有效的特困标准，配置亦未设 tekun_floor_ratio"
                             "（no tekun standard in force and no tekun_floor_ratio）")
        else:
            dibao = standard_in_force(ctx, "dibao")
            if dibao is None:
                raise RuleNotRun(f"数据表 standards 中没有{ctx.month}时有效的特困或低保标准"
                                 "（no tekun or dibao standard in force）")
            floor, since = dibao[0] * scaled(ratio), dibao[1]
            basis = f"低保标准{fen_to_yuan(dibao[0])}元（{since}起）的{format(ratio, 'f')}倍"
        cases = active_with_members(self, ctx, "tekun").with_columns(
            needed=pl.col("members").cast(pl.Int64) * floor)
        short = cases.filter(pl.col("monthly_amount") * SCALE < pl.col("needed")).with_columns(
            shortfall=ceil_unscaled(pl.col("needed") - pl.col("monthly_amount") * SCALE),
            per_member=pl.col("monthly_amount") // pl.col("members"))
        floor_text = fen_to_yuan(-(-floor // SCALE))
        return short.select(
            "case_id", "street", "program", pl.col("payee_id").alias("person_id"),
            amount_fen=pl.col("shortfall"),
            title=pl.format("特困案件{}月供养金额{}元（{}人，人均{}元），低于每人{}元（{}），当月少发{}元",
                            pl.col("case_id"), yuan(pl.col("monthly_amount")), pl.col("members"),
                            yuan(pl.col("per_member")), pl.lit(floor_text), pl.lit(basis),
                            yuan(pl.col("shortfall"))),
            evidence=pl.struct("case_id", yuan(pl.col("monthly_amount")).alias("monthly_amount"), "members",
                               pl.lit(floor_text).alias("floor"), pl.lit(basis).alias("floor_basis"),
                               pl.lit(since).alias("standard_from"),
                               yuan(pl.col("shortfall")).alias("shortfall")).struct.json_encode(),
        )
