from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.core.repeats import may_repeat
from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_cases, paid_history_with_case, paid_members_of
from auditor.engine.registry import Rule, register


@register
class E06(Rule):
    """重复救助 — one person in two cases of mutually exclusive programs paid for M.

    A person may be covered by only one of 低保/特困 (and 低保边缘 excludes 低保):
    fires when the person is a member of two or more cases paid for M whose
    programs form a pair in ``exclusive_programs`` (either order; dibao-dibao
    means two distinct 低保 cases). Money at stake: for every benefit month up
    to and including M in which two or more of those cases forming an exclusive
    pair were paid (paid ledger history), all their payments but the largest
    (for two cases, the smaller one); the months are listed in the evidence.

    Fires: member of 低保 case C1 and 特困 case C2, both paid for 2026-10.
    Does not fire: 低保 and 临时救助 (temporary) cases; or the 特困 case not paid for M.
    """

    code = "E06"
    name = "重复救助"
    severity = "high"
    subject = ("person_id",)
    stable_facts = ("person_id", "case_ids")
    params = ("exclusive_programs",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        pairs = sorted({"|".join(sorted(p)) for p in ctx.profile.exclusive_programs})
        in_paid = ctx.table("members", "case_id", "person_id").join(ctx.shared(paid_cases), on="case_id", how="semi")
        # in 2+ paid cases (and, rarely, someone whose id shares a hash: their one case pairs with none)
        several = in_paid.filter(may_repeat(in_paid, ["person_id"])).select("person_id")
        m = paid_members_of(ctx, several).select("person_id", "name", "case_id", "program", "street", "paid_fen")
        both = (m.join(m.select("person_id", "case_id", "program"), on="person_id", suffix="_2")
                .filter(pl.col("case_id") < pl.col("case_id_2"))
                .filter(_pair("program", "program_2").is_in(pairs)))
        involved = pl.concat([both.select("person_id", "case_id"),
                              both.select("person_id", pl.col("case_id_2").alias("case_id"))]).unique()
        cases = (m.join(involved, on=["person_id", "case_id"], how="semi")
                 .unique(["person_id", "case_id"]).sort("case_id"))
        money = _concurrent_money(ctx, cases.select("person_id", "case_id", "program"), pairs)
        agg = cases.group_by("person_id").agg(
            name=pl.col("name").first(), street=pl.col("street").first(), case_id=pl.col("case_id").first(),
            cases=pl.struct("case_id", "program", "street", yuan(pl.col("paid_fen")).alias("paid")))
        out = agg.join(money, on="person_id", how="left").with_columns(
            amount_fen=pl.col("amount_fen").fill_null(0), months=pl.col("months").fill_null([]))
        return out.select(
            "person_id", "street", "case_id", "amount_fen",
            title=pl.format("{}（{}）{} 同时在{}个互斥救助案件中受助：{}，重复发放{}个月共{}元", pl.col("name"),
                            pl.col("person_id"), pl.lit(ctx.month), pl.col("cases").list.len(),
                            pl.col("cases").list.eval(pl.concat_str(pl.element().struct.field("case_id"), pl.lit("("),
                                                                   pl.element().struct.field("program"), pl.lit(")")))
                            .list.join("、"), pl.col("months").list.len(), yuan(pl.col("amount_fen"))),
            evidence=pl.struct("person_id", "name", "cases",
                               pl.col("cases").list.eval(pl.element().struct.field("case_id")).alias("case_ids"),
                               pl.col("months").alias("months_concurrent"),
                               yuan(pl.col("amount_fen")).alias("paid_concurrently"))
            .struct.json_encode(),
        )


def _pair(a: str, b: str) -> pl.Expr:
    """``"x|y"``, the two programs in text order (as text: ``min_horizontal`` orders categorical codes by
    their place in the category pool, not by text)."""
    a_, b_ = pl.col(a).cast(pl.String), pl.col(b).cast(pl.String)
    return pl.concat_str(pl.min_horizontal(a_, b_), pl.lit("|"), pl.max_horizontal(a_, b_))


def _concurrent_money(ctx: AuditContext, cases: pl.DataFrame, pairs: list[str]) -> pl.DataFrame:
    """Per person: ``amount_fen`` and ``months`` of the benefit months (up to M) in which two or more of
    ``cases`` (person_id, case_id, program) forming an exclusive pair were paid; a month counts all its
    payments but the largest."""
    paid = (paid_history_with_case(ctx, cases["case_id"]).group_by("case_id", "month")
            .agg(fen=pl.col("amount").sum()))
    per = cases.join(paid, on="case_id")
    both = (per.join(per.select("person_id", "month", "case_id", "program"), on=["person_id", "month"], suffix="_2")
            .filter(pl.col("case_id") < pl.col("case_id_2"))
            .filter(_pair("program", "program_2").is_in(pairs)))
    concurrent = pl.concat([both.select("person_id", "month", "case_id"),
                            both.select("person_id", "month", pl.col("case_id_2").alias("case_id"))]).unique()
    months = (per.join(concurrent, on=["person_id", "month", "case_id"], how="semi")
              .group_by("person_id", "month").agg(fen=pl.col("fen").sum() - pl.col("fen").max()))
    return months.group_by("person_id").agg(amount_fen=pl.col("fen").sum(), months=pl.col("month").sort())
