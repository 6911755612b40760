from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.frames import active_case_rows
from auditor.engine.registry import Rule, register

CYCLE_OFFSETS = {"quarterly": "3mo", "semiannual": "6mo", "annual": "12mo"}


@register
class E07(Rule):
    """定期核查逾期 — an active case's periodic review (定期核查) is overdue.

    The review is due ``review_cycle`` (quarterly 3, semiannual 6, annual 12)
    calendar months after last_reviewed_on (approved_on when never reviewed),
    the day clipped to the target month's end (08-31 + 6 months = 02-28).
    Fires when the due date is before the last day of M. A case with neither
    date nor a cycle cannot be dated and is not reported.

    Fires: quarterly, last reviewed 2026-07-15, due 2026-10-15 < 2026-10-31.
    Does not fire: quarterly, last reviewed 2026-07-31, due exactly 2026-10-31.
    """

    code = "E07"
    name = "定期核查逾期"
    severity = "medium"
    subject = ("case_id",)
    stable_facts = ("case_id", "review_cycle", "last_reviewed_on", "approved_on", "review_due")
    needs = {"cases": ("review_cycle",)}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        cases = active_case_rows(ctx, ("case_id", "street", "program", "payee_id", "last_reviewed_on", "approved_on",
                                       "review_cycle")).with_columns(  # not shared: not held through the family
            base=pl.coalesce("last_reviewed_on", "approved_on"),
            basis_kind=pl.when(pl.col("last_reviewed_on").is_not_null()).then(pl.lit("最近核查"))
            .otherwise(pl.lit("审批")))
        due = cases.filter(pl.col("base").is_not_null() & pl.col("review_cycle").is_not_null()).with_columns(
            due=pl.col("base").dt.offset_by(pl.col("review_cycle").replace_strict(CYCLE_OFFSETS)))
        late = due.filter(pl.col("due") < ctx.last_day)
        cycle = pl.col("review_cycle").replace_strict({"quarterly": "季度", "semiannual": "半年", "annual": "年度"})
        return late.select(
            "case_id", "street", "program", pl.col("payee_id").alias("person_id"),
            title=pl.format("案件{}（{}核查）{}日期{}，定期核查到期日{}，截至{}已逾期{}天",
                            pl.col("case_id"), cycle, pl.col("basis_kind"), pl.col("base"), pl.col("due"),
                            pl.lit(ctx.last_day), (pl.lit(ctx.last_day) - pl.col("due")).dt.total_days()),
            evidence=pl.struct("case_id", "review_cycle", "last_reviewed_on", "approved_on",
                               pl.col("due").alias("review_due"), pl.lit(ctx.last_day).alias("month_end"))
            .struct.json_encode(),
        )
