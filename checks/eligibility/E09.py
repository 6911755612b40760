from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_cases, table_rows, with_txn_ids
from auditor.engine.registry import Rule, register
from checks.eligibility.common import not_due, with_not_due

MINOR_BASIS = ("minor", "未成年")


@register
class E09(Rule):
    """特困未成年超龄 — a 特困 case granted as a minor is paid after the payee came of age.

    特困 cover for minors lasts until ``tekun_minor_age_limit`` (default 18);
    fires for a tekun case with basis ``minor`` (未成年) paid for M whose
    payee's birthday of that age (from the resident id; 02-29 -> 02-28) is
    before the first day of M. Money at stake: everything paid to the case
    (history up to and including M) for benefit months that began after that
    birthday; those months are listed in the evidence.

    Fires: born 2008-09-30, turned 18 on 2026-09-30, paid for 2026-10.
    Does not fire: born 2008-10-01, turned 18 on the first day of M.
    """

    code = "E09"
    name = "特困未成年超龄"
    severity = "medium"
    subject = ("case_id",)
    stable_facts = ("case_id", "payee_id", "basis", "born")
    needs = {"cases": ("basis",)}
    params = ("tekun_minor_age_limit",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        limit = ctx.profile.tekun_minor_age_limit
        cases = table_rows(ctx, "cases", (pl.col("program") == "tekun") & pl.col("basis").is_in(MINOR_BASIS),
                           ("case_id", "program", "street", "payee_id", "basis"))
        hits = (ctx.shared(paid_cases).join(cases, on="case_id")  # the few minors' cases, then the paid ones
                .with_columns(born=pl.col("payee_id").str.slice(6, 8).str.to_date("%Y%m%d"))
                .with_columns(came_of_age=pl.col("born").dt.offset_by(f"{limit}y"))
                .filter(pl.col("came_of_age") < ctx.first_day))
        amounts = not_due(ctx, hits.select("case_id", "came_of_age"), pl.col("m_first") > pl.col("came_of_age"),
                          "case_id")
        out = with_txn_ids(ctx, with_not_due(hits, amounts, "case_id"), ["case_id"])
        return out.select(
            "case_id", "street", "program", pl.col("payee_id").alias("person_id"), "amount_fen",
            title=pl.format("特困未成年人案件{}：领款人{}已于{}年满{}周岁，{} 仍按未成年人发放，超龄后发放{}个月共{}元",
                            pl.col("case_id"), pl.col("payee_id"), pl.col("came_of_age"), pl.lit(limit),
                            pl.lit(ctx.month), pl.col("not_due_months").list.len(), pl.col("not_due_total")),
            evidence=pl.struct("case_id", "payee_id", "basis", "born", "came_of_age",
                               pl.lit(limit).alias("age_limit"), "txn_ids",
                               pl.col("not_due_months").alias("months_paid_after_age_limit"),
                               pl.col("not_due_total").alias("paid_after_age_limit")).struct.json_encode(),
        )
