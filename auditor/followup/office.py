"""The monthly report for the joint-meeting office (联席会议办公室), built from the store.

Month-over-month trend by rule and street, rectification progress and ageing
(overdue first), amounts confirmed and recovered, and a per-street scorecard
for the yearly performance review (绩效评价). Typed data first
(``OfficeReport``), rendered through the one jinja2 env
(``reports/office.html.j2``). Personal data in it is always masked.

Scorecard score (0–100) = 40 × closure rate + 30 × on-time closure rate + 30 × (1 − recurring share),
over the street's findings first seen up to the report month, where the on-time closure rate is the
share of all its findings closed by their due date (so closing nothing earns nothing there); a street
with no findings scores 100. Streets that closed something rank before streets that closed nothing
(then by score, then by amount recovered), so a street that closed nothing is never ranked above one
that closed findings and recovered money. The formula is printed on the report, with charts of the
trend by month, the streets compared and the ageing of open findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl
from sqlalchemy import Executable, select
from sqlalchemy.engine import Engine

from auditor import store
from auditor.core.masking import mask_text
from auditor.core.money import fen_to_yuan
from auditor.core.periods import month_window
from auditor.core.vocab import FINDING_STATUS_LABELS, FINDING_STATUSES
from auditor.engine.runner import load_catalogue
from auditor.followup.lifecycle import CLOSED, OPEN
from auditor.followup.workflow import AGE_BANDS
from auditor.reporting.charts import bars, columns
from auditor.reporting.env import environment
from auditor.reporting.issues_xlsx import DISTRICT_SHEET

SCORE_FORMULA = ("得分 = 40 × 结案率 + 30 × 按期结案率 + 30 × (1 − 复发占比)；结案率 = 已结案 ÷ 累计，"
                 "按期结案率 = 按期结案 ÷ 累计，复发占比 = 复发 ÷ 累计；无问题的街镇记 100 分。"
                 "排名：有结案的街镇在前，其次按得分、追回金额从高到低。")
TREND_MONTHS = 6
LIST_OPEN = 100


@dataclass
class TrendRow:
    key: str
    label: str
    counts: list[int]
    change: int


@dataclass
class OpenItem:
    finding_id: str
    rule: str
    street: str
    status: str
    assignee: str
    due_date: str
    days_overdue: int | None
    age_days: int
    title: str


@dataclass
class ScoreRow:
    street: str
    month_findings: int
    total: int
    open: int
    overdue: int
    closed: int
    closure_rate: str
    on_time_rate: str
    recurring: int
    confirmed: int
    recovered: str
    score: str
    recovered_fen: int = 0


@dataclass
class OfficeReport:
    district: str
    month: str
    as_of: str
    months: list[str]
    by_rule: list[TrendRow]
    by_street: list[TrendRow]
    status_counts: list[dict]
    ageing: list[dict]
    open_items: list[OpenItem]
    open_total: int
    overdue_total: int
    confirmed_count: int
    confirmed_amount: str
    recovered_amount: str
    scorecard: list[ScoreRow] = field(default_factory=list)
    formula: str = SCORE_FORMULA
    charts: dict = field(default_factory=dict)


def _frame(engine: Engine, query: Executable) -> pl.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return pl.DataFrame([dict(r) for r in rows], infer_schema_length=None) if rows else pl.DataFrame()


def _trend(occ: pl.DataFrame, key: str, months: list[str], labels: dict[str, str]) -> list[TrendRow]:
    if occ.is_empty():
        return []
    counts = occ.group_by(key, "month").agg(n=pl.len())
    table = {(r[key], r["month"]): r["n"] for r in counts.iter_rows(named=True)}
    keys = sorted({k for k, _ in table})
    rows = [TrendRow(k, labels.get(k, k), [table.get((k, m), 0) for m in months], 0) for k in keys]
    for r in rows:
        r.change = r.counts[-1] - (r.counts[-2] if len(r.counts) > 1 else 0)
    return sorted(rows, key=lambda r: (-r.counts[-1], r.key))


def build_office_report(engine: Engine, month: str, *, district: str, today: date | None = None) -> OfficeReport:
    today = today or date.today()
    months = month_window(month, TREND_MONTHS)
    oc = store.occurrences
    occ = _frame(engine, select(oc.c.finding_id, oc.c.month, oc.c.rule, oc.c.street, oc.c.amount_fen)
                 .where(oc.c.month.in_(months)))
    if not occ.is_empty():
        occ = occ.with_columns(street=pl.col("street").fill_null(DISTRICT_SHEET))
    names = {code: f"{code} {cls.name}" for code, cls in load_catalogue().items()}
    report = OfficeReport(district, month, today.isoformat(), months,
                          _trend(occ, "rule", months, names), _trend(occ, "street", months, {}),
                          [], [], [], 0, 0, 0, "0.00", "0.00")
    f = followup_frame(engine, month, today)
    if f.is_empty():
        return report
    counts = dict(f["status"].value_counts().iter_rows())
    report.status_counts = [{"status": s, "label": FINDING_STATUS_LABELS[s], "count": counts.get(s, 0)}
                            for s in FINDING_STATUSES]
    open_f = f.filter(pl.col("is_open"))
    report.open_total, report.overdue_total = open_f.height, int(open_f["overdue_days"].is_not_null().sum())
    for label, lower, upper in AGE_BANDS.values():
        cond = pl.col("age_days") > lower if lower else pl.lit(True)
        if upper is not None:
            cond = cond & (pl.col("age_days") <= upper)
        report.ageing.append({"label": label, "count": open_f.filter(cond).height})
    ordered = open_f.sort([pl.col("overdue_days").is_null(), pl.col("overdue_days"), pl.col("due_date"),
                           "finding_id"], descending=[False, True, False, False], nulls_last=True)
    report.open_items = [OpenItem(r["finding_id"], r["rule"], r["street"], FINDING_STATUS_LABELS[r["status"]],
                                  r["assignee"] or "", str(r["due_date"] or ""), r["overdue_days"], r["age_days"],
                                  mask_text(r["title"] or ""))
                         for r in ordered.head(LIST_OPEN).iter_rows(named=True)]
    confirmed = f.filter(pl.col("status") == "confirmed")
    report.confirmed_count = confirmed.height
    report.confirmed_amount = fen_to_yuan(int(confirmed["amount_fen"].fill_null(0).sum()))
    report.recovered_amount = fen_to_yuan(int(f["amount_recovered_fen"].fill_null(0).sum()))

    this_month = {} if occ.is_empty() else dict(
        occ.filter(pl.col("month") == month).join(f.select("finding_id", "street"), on="finding_id", how="inner",
                                                  suffix="_now")["street_now"].value_counts().iter_rows())
    report.scorecard = scorecard(f, this_month)
    return report


def followup_frame(engine: Engine, month: str, today: date) -> pl.DataFrame:
    """The findings first seen up to ``month`` with their follow-up as of ``today``: current ``street`` (区级 when
    none), ``is_open``, ``overdue_days``, ``age_days`` since (re)opened, ``on_time`` closure, latest ``amount_fen``
    and ``title`` up to ``month``; empty when there are none."""
    oc, fd, ev = store.occurrences, store.findings, store.events
    fnd = _frame(engine, select(fd).where(fd.c.first_month <= month))
    if fnd.is_empty():
        return fnd
    latest = _frame(engine, select(oc.c.finding_id, oc.c.amount_fen, oc.c.title, oc.c.month)
                    .where(oc.c.month <= month).order_by(oc.c.finding_id, oc.c.month.desc()))
    created = _frame(engine, select(ev.c.finding_id, ev.c.at, ev.c.action, ev.c.amount_fen)
                     .where(ev.c.action.in_(["created", "reopened", "closed_confirmed",
                                             "closed_rectified", "closed_dismissed"])))
    fnd = fnd.with_columns(pl.col("due_date").cast(pl.Date), pl.col("amount_recovered_fen").cast(pl.Int64),
                           pl.col("assigned_street", "assignee", "street").cast(pl.String),
                           pl.col("recurring").cast(pl.Boolean))
    created = created.with_columns(pl.col("at").cast(pl.Datetime("us")))
    latest = latest.unique("finding_id", keep="first", maintain_order=True)
    opened = (created.filter(pl.col("action").is_in(["created", "reopened"]))
              .group_by("finding_id").agg(opened=pl.col("at").max()))
    closed_at = (created.filter(pl.col("action").str.starts_with("closed_"))
                 .group_by("finding_id").agg(closed=pl.col("at").max()))
    f = (fnd.join(latest.select("finding_id", "amount_fen", "title"), on="finding_id", how="left")
         .join(opened, on="finding_id", how="left").join(closed_at, on="finding_id", how="left")
         .with_columns(street=pl.coalesce("assigned_street", "street").fill_null(DISTRICT_SHEET),
                       today=pl.lit(today)))
    return f.with_columns(
        is_open=pl.col("status").is_in(OPEN),
        overdue_days=pl.when(pl.col("status").is_in(OPEN) & (pl.col("due_date") < pl.col("today")))
        .then((pl.col("today") - pl.col("due_date")).dt.total_days()),
        age_days=(pl.col("today") - pl.col("opened").dt.date()).dt.total_days().fill_null(0),
        on_time=pl.col("due_date").is_null() | (pl.col("closed").dt.date() <= pl.col("due_date")),
    )


def scorecard(f: pl.DataFrame, month_counts: dict[str, int]) -> list[ScoreRow]:
    """One ``ScoreRow`` per street of ``followup_frame`` (``SCORE_FORMULA``), ranked; ``month_counts``: the
    report month's findings per street."""
    if f.is_empty():
        return []
    closed = pl.col("status").is_in(CLOSED)
    g = (f.group_by("street").agg(
        total=pl.len(), open=pl.col("is_open").sum(), overdue=pl.col("overdue_days").is_not_null().sum(),
        closed=closed.sum(), on_time=(closed & pl.col("on_time").fill_null(False)).sum(),
        recurring=pl.col("recurring").sum(), confirmed=(pl.col("status") == "confirmed").sum(),
        recovered=pl.col("amount_recovered_fen").fill_null(0).sum())
        .with_columns(rate=pl.col("closed") / pl.col("total"), on_time_rate=pl.col("on_time") / pl.col("total"))
        .with_columns(score=40 * pl.col("rate") + 30 * pl.col("on_time_rate")
                      + 30 * (1 - pl.col("recurring") / pl.col("total"))))
    rows = [ScoreRow(r["street"], month_counts.get(r["street"], 0), r["total"], r["open"], r["overdue"], r["closed"],
                     f"{r['rate']:.0%}", f"{r['on_time_rate']:.0%}", r["recurring"], r["confirmed"],
                     fen_to_yuan(int(r["recovered"])), f"{r['score']:.1f}", int(r["recovered"]))
             for r in g.iter_rows(named=True)]
    return sorted(rows, key=lambda r: (r.closed == 0 < r.total, -float(r.score), -r.recovered_fen, r.street))


def _charts(report: OfficeReport) -> dict:
    """Trend by month, streets compared (open vs closed), ageing of open findings."""
    per_month = [sum(t.counts[i] for t in report.by_rule) for i in range(len(report.months))]
    streets = report.scorecard
    return {
        "trend": columns("各月问题数", report.months, per_month),
        "streets": bars("街镇对比", [s.street for s in streets],
                        {"未结案": [s.open for s in streets], "已结案": [s.closed for s in streets]}),
        "ageing": bars("未结案账龄", [a["label"] for a in report.ageing],
                       {"件数": [a["count"] for a in report.ageing]}),
    }


def render_office_report(report: OfficeReport) -> str:
    report.charts = _charts(report)
    return environment().get_template("office.html.j2").render(r=report)
