from __future__ import annotations

import polars as pl

from auditor.core.workdays import CalendarRangeError, deadlines
from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, RuleNotRun, register


@register
class E12(Rule):
    """审核审批超时 — an application was not decided within the statutory working days.

    The deadline is the ``decision_working_days``-th (default 20;
    ``decision_working_days_special``, default 45, for special cases) working
    day after received_on, the day of receipt not counted, on the official
    PRC calendar (``auditor.workdays``: statutory holidays off, adjusted
    weekend workdays on). Fires in M when the deadline is on or before the
    last day of M and the application is pending at the end of M or was
    decided in M after the deadline. A needed day outside the calendar's known
    years stops the rule (not run), never a weekday guess.

    Fires: received 2026-09-10, pending; the 20th working day is 2026-10-14
    (中秋 09-25 and 国庆 10-01..10-07 off, 09-20 and 10-10 worked).
    Does not fire: the same application decided on 2026-10-14.
    """

    code = "E12"
    name = "审核审批超时"
    severity = "low"
    subject = ("application_id",)
    stable_facts = ("application_id", "person_id", "deadline")
    needs = {"applications": ()}
    params = ("decision_working_days", "decision_working_days_special")

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        first, last = ctx.first_day, ctx.last_day
        p = ctx.profile
        pending = pl.col("decided_on").is_null() | (pl.col("decided_on") > last)
        decided_in_m = pl.col("decided_on").is_between(first, last)
        apps = (ctx.table("applications").filter((pl.col("received_on") <= last) & (pending | decided_in_m))
                .with_columns(days=pl.when(pl.col("special").fill_null(False))
                              .then(p.decision_working_days_special).otherwise(p.decision_working_days)))
        try:
            due = deadlines(apps["received_on"], apps["days"], last)
        except CalendarRangeError as exc:
            raise RuleNotRun(f"法定节假日日历无法判定：{exc}") from None
        late = apps.with_columns(deadline=due).filter(
            pl.col("deadline").is_not_null() & (pending | (pl.col("decided_on") > pl.col("deadline"))))
        state = (pl.when(pending).then(pl.format("截至{}仍未审批", pl.lit(last)))
                 .otherwise(pl.format("于{}才审批", pl.col("decided_on"))))
        return late.select(
            "application_id", "person_id", "street", "program",
            title=pl.format("申请{}于{}受理，应在{}个工作日内（最迟{}）作出决定，{}",
                            pl.col("application_id"), pl.col("received_on"), pl.col("days"),
                            pl.col("deadline"), state),
            evidence=pl.struct("application_id", "person_id", "received_on", "decided_on",
                               pl.col("special").fill_null(False), pl.col("days").alias("working_days"),
                               "deadline", pending.alias("pending_at_month_end")).struct.json_encode(),
        )
