from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_cases, with_txn_ids
from auditor.engine.registry import Rule, register

MINOR_BASIS = ("minor", "未成年")


@register
class E09(Rule):
    """特困未成年超龄 — a 特困 case granted as a minor is paid after the payee came of age.

    特困 cover for minors lasts until ``tekun_minor_age_limit`` (default 18);
    fires for a tekun case with basis ``minor`` (未成年) paid for M whose
    payee's birthday of that age (from the resident id; 02-29 -> 02-28) is
    before the first day of M.

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
        cases = ctx.table("cases").select("case_id", "program", "street", "payee_id", "basis")
        hits = (ctx.shared(paid_cases).join(cases, on="case_id")
                .filter((pl.col("program") == "tekun") & pl.col("basis").is_in(MINOR_BASIS))
                .with_columns(born=pl.col("payee_id").str.slice(6, 8).str.to_date("%Y%m%d"))
                .with_columns(came_of_age=pl.col("born").dt.offset_by(f"{limit}y"))
                .filter(pl.col("came_of_age") < ctx.first_day))
        return with_txn_ids(ctx, hits, ["case_id"]).select(
            "case_id", "street", "program", pl.col("payee_id").alias("person_id"),
            title=pl.format("特困未成年人案件{}：领款人{}已于{}年满{}周岁，{} 仍按未成年人特困供养发放",
                            pl.col("case_id"), pl.col("payee_id"), pl.col("came_of_age"), pl.lit(limit),
                            pl.lit(ctx.month)),
            evidence=pl.struct("case_id", "payee_id", "basis", "born", "came_of_age",
                               pl.lit(limit).alias("age_limit"), "txn_ids").struct.json_encode(),
        )
