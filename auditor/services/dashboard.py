"""The office dashboard (联席会议办公室数据看板): a month's and the year-to-date's figures from the store.

Money reconciled (the runs' summaries) and at risk, findings by rule and by street, the trend over twelve
months, rectification progress and ageing, amounts confirmed and recovered, and the per-street scorecard
of the office report (``followup.office.SCORE_FORMULA``). Every count is a SQL ``GROUP BY`` over the
worklist's own conditions (``workflow.scope``), so each figure's ``href`` opens a worklist (``/findings``)
listing exactly the findings it counts. A street officer gets their own street's figures only, and no
district-wide money totals.

The dashboard holds aggregates and no person, so viewing it is not logged here (the web logs the page view);
a refusal is logged, and the worklists it links to log every list they show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.engine import Connection

from auditor import store
from auditor.core.money import fen_to_yuan, to_fen
from auditor.core.periods import month_window, parse_month
from auditor.core.vocab import FINDING_STATUS_LABELS, FINDING_STATUSES
from auditor.engine.runner import load_catalogue, rules_in
from auditor.followup import office, workflow
from auditor.followup.lifecycle import OPEN
from auditor.services.session import Session

TREND_MONTHS = 12
RECONCILED = ("instructed", "paid", "matched")  # run summary money keys shown as reconciled money


@dataclass(frozen=True)
class Figure:
    """A count of findings (and an amount in fen, when it has one) and the worklist that lists them."""

    label: str
    count: int
    href: str
    amount_fen: int | None = None

    @property
    def amount(self) -> str:
        return fen_to_yuan(self.amount_fen or 0)


@dataclass(frozen=True)
class Period:
    """The figures of findings seen in ``month_from``..``month_to`` (status and age as of today)."""

    label: str
    month_from: str
    month_to: str
    findings: Figure
    at_risk: Figure  # R01–R05 findings; amount: per payee and program the largest, summed per month
    reconciled: dict[str, int] | None  # fen per ``RECONCILED`` key from the runs (district only); None: none
    runs: int  # months of the period with a run summary
    by_rule: tuple[Figure, ...]
    by_street: tuple[Figure, ...]
    statuses: tuple[Figure, ...]
    open: Figure
    overdue: Figure
    ageing: tuple[Figure, ...]
    confirmed: Figure  # amount: the confirmed findings' latest amounts in the period
    recovered_fen: int

    @property
    def recovered(self) -> str:
        return fen_to_yuan(self.recovered_fen)

    @property
    def closure_rate(self) -> str:
        closed = self.findings.count - self.open.count
        return f"{closed / self.findings.count:.0%}" if self.findings.count else "—"


@dataclass(frozen=True)
class TrendPoint:
    month: str
    findings: int
    new: int
    at_risk_fen: int
    href: str
    risk_href: str  # the month's R01–R05 findings


@dataclass(frozen=True)
class ScoreLine:
    """The office report's ``ScoreRow`` of a street and the worklists behind its counts."""

    row: office.ScoreRow
    links: dict[str, str]


@dataclass(frozen=True)
class Dashboard:
    month: str
    street: str | None  # the figures are this street's only; None: the whole district
    today: date
    months: tuple[str, ...]  # months with findings or runs in the store, newest first
    periods: tuple[Period, Period]  # the month, the year to date
    trend: tuple[TrendPoint, ...]
    scorecard: tuple[ScoreLine, ...]
    formula: str = office.SCORE_FORMULA


def worklist(**params: str) -> str:
    """The worklist URL for ``params`` (empty values left out)."""
    return "/findings?" + urlencode({k: v for k, v in params.items() if v})


def dashboard(s: Session, month: str | None = None, *, street: str | None = None,
              today: date | None = None) -> Dashboard:
    """The dashboard of ``month`` (default: the latest month in the store) for ``street`` (None: every street;
    a street officer: their own, asking for another is refused and logged)."""
    s.require("read", "dashboard", target=month)
    if s.user.role == "street":
        s.require_street(street or s.user.street, "dashboard", target=street)
        street = s.user.street
    today = today or date.today()
    with s.engine.connect() as conn:
        months = _months(conn)
        month = parse_month(month, "month") if month else (months[0] if months else today.strftime("%Y-%m"))
        periods = (_period(conn, f"{month} 月", month, month, street, today),
                   _period(conn, f"{month[:4]} 年 1–{int(month[5:])} 月累计", f"{month[:4]}-01", month, street,
                           today))
        trend = _trend(conn, month, street)
    f = office.followup_frame(s.engine, month, today)
    month_counts = {fig.label: fig.count for fig in periods[0].by_street}
    rows = [r for r in office.scorecard(f, month_counts) if street is None or r.street == street]
    lines = tuple(ScoreLine(r, _score_links(r.street, month)) for r in rows)
    return Dashboard(month, street, today, tuple(months), periods, tuple(trend), lines)


def _months(conn: Connection) -> list[str]:
    oc, runs = store.occurrences, store.runs
    found = {m for (m,) in conn.execute(select(oc.c.month).group_by(oc.c.month))}
    found |= {m for (m,) in conn.execute(select(runs.c.month).group_by(runs.c.month))}
    return sorted(found, reverse=True)


def _street_key() -> ColumnElement[str]:
    fd = store.findings
    return func.coalesce(fd.c.assigned_street, fd.c.street)


def _counts(conn: Connection, f: workflow.Filters, key: ColumnElement | None, today: date) -> dict[object, int]:
    """Findings matching ``f`` (as the worklist selects them) counted per ``key`` (None: in all, key None)."""
    fd = store.findings
    cols = [key] if key is not None else []
    q = select(*cols, func.count()).select_from(fd).where(*workflow.scope(f, today))
    rows = conn.execute(q.group_by(*cols) if cols else q).all()
    return {(r[0] if cols else None): int(r[-1]) for r in rows}


def _period(conn: Connection, label: str, first: str, last: str, street: str | None, today: date) -> Period:
    base = workflow.Filters(street=street, month_from=first, month_to=last)
    params = {"month_from": first, "month_to": last, "street": street or ""}

    def fig(name: str, count: int, amount_fen: int | None = None, **more: str) -> Figure:
        return Figure(name, count, worklist(**(params | more)), amount_fen)

    def count(**changes: object) -> int:
        return _counts(conn, workflow.Filters(**(vars(base) | changes)), None, today).get(None, 0)

    names = {code: cls.name for code, cls in load_catalogue().items()}
    by_rule = _counts(conn, base, store.findings.c.rule, today)
    by_street = _counts(conn, base, _street_key(), today)
    by_status = _counts(conn, base, store.findings.c.status, today)
    recon = list(rules_in("reconciliation_totals"))
    at_risk_fen = sum(_at_risk(conn, first, last, street).values())
    confirmed, confirmed_fen, recovered = _settled(conn, base, today)
    reconciled, runs = (None, 0) if street else _reconciled(conn, first, last)
    return Period(
        label, first, last,
        findings=fig("问题线索", sum(by_status.values())),
        at_risk=fig("资金比对风险", count(rule=recon), at_risk_fen, rule=",".join(recon)),
        reconciled=reconciled, runs=runs,
        by_rule=tuple(fig(f"{code} {names.get(str(code), '')}".strip(), n, rule=str(code))
                      for code, n in sorted(by_rule.items(), key=lambda kv: (-kv[1], str(kv[0])))),
        by_street=tuple(fig(str(k or workflow.DISTRICT), n, street=str(k or workflow.DISTRICT))
                        for k, n in sorted(by_street.items(), key=lambda kv: (-kv[1], str(kv[0] or ""))))
        if not street else (fig(street, sum(by_status.values())),),
        statuses=tuple(fig(FINDING_STATUS_LABELS[st], by_status.get(st, 0), status=st) for st in FINDING_STATUSES),
        open=fig("待处理", sum(by_status.get(st, 0) for st in OPEN), status="open"),
        overdue=fig("整改超期", count(overdue=True), overdue="1"),
        ageing=tuple(fig(band, count(age=key), status="open", age=key)
                     for key, (band, _, _) in workflow.AGE_BANDS.items()),
        confirmed=fig("查实违规", confirmed, confirmed_fen, status="confirmed"),
        recovered_fen=recovered)


def _at_risk(conn: Connection, first: str, last: str, street: str | None) -> dict[str, int]:
    """Money at risk per month (fen), as the run computes it: per (payee, program) the largest amount among
    its R01–R05 findings, summed."""
    oc, fd = store.occurrences, store.findings
    per_key = (select(oc.c.month, func.max(oc.c.amount_fen).label("fen"))
               .select_from(oc.join(fd, fd.c.finding_id == oc.c.finding_id))
               .where(oc.c.month >= first, oc.c.month <= last,
                      oc.c.rule.in_(rules_in("reconciliation_totals")),
                      *workflow.scope(workflow.Filters(street=street)))
               .group_by(oc.c.month, oc.c.person_id, oc.c.program).subquery())
    rows = conn.execute(select(per_key.c.month, func.sum(per_key.c.fen)).group_by(per_key.c.month)).all()
    return {m: int(fen or 0) for m, fen in rows}


def _settled(conn: Connection, base: workflow.Filters, today: date) -> tuple[int, int, int]:
    """Confirmed findings, their amount (each one's latest occurrence in the range, as the worklist shows it)
    and the money recovered on the period's findings, in fen."""
    oc, fd = store.occurrences, store.findings
    latest = (select(oc.c.finding_id, func.max(oc.c.month).label("month"))
              .where(oc.c.month >= base.month_from, oc.c.month <= base.month_to)
              .group_by(oc.c.finding_id).subquery())
    confirmed = workflow.Filters(**(vars(base) | {"status": ["confirmed"]}))
    n, fen = conn.execute(
        select(func.count(), func.sum(oc.c.amount_fen))
        .select_from(fd.join(latest, latest.c.finding_id == fd.c.finding_id)
                     .join(oc, and_(oc.c.finding_id == latest.c.finding_id, oc.c.month == latest.c.month)))
        .where(*workflow.scope(confirmed, today))).one()
    recovered = conn.execute(select(func.sum(fd.c.amount_recovered_fen))
                             .where(*workflow.scope(base, today))).scalar_one()
    return int(n), int(fen or 0), int(recovered or 0)


def _reconciled(conn: Connection, first: str, last: str) -> tuple[dict[str, int] | None, int]:
    """The district's money of the months' latest runs that recorded it (``run.json`` ``money``), in fen."""
    runs = store.runs
    rows = conn.execute(select(runs.c.month, runs.c.summary)
                        .where(runs.c.month >= first, runs.c.month <= last).order_by(runs.c.run_id)).all()
    latest: dict[str, dict] = {}
    for month, summary in rows:  # one row per run: a handful a month
        money = json.loads(summary or "{}").get("money")
        if money:
            latest[month] = money
    if not latest:
        return None, 0
    return {k: sum(to_fen(m[k] or 0) for m in latest.values()) for k in RECONCILED}, len(latest)


def _trend(conn: Connection, month: str, street: str | None) -> list[TrendPoint]:
    oc, fd = store.occurrences, store.findings
    window = month_window(month, TREND_MONTHS)
    rows = conn.execute(
        select(oc.c.month, func.count(), func.sum(case((fd.c.first_month == oc.c.month, 1), else_=0)))
        .select_from(oc.join(fd, fd.c.finding_id == oc.c.finding_id))
        .where(oc.c.month >= window[0], oc.c.month <= month, *workflow.scope(workflow.Filters(street=street)))
        .group_by(oc.c.month)).all()
    counts = {m: (int(n), int(new or 0)) for m, n, new in rows}
    risk = _at_risk(conn, window[0], month, street)
    recon = ",".join(rules_in("reconciliation_totals"))
    return [TrendPoint(m, *counts.get(m, (0, 0)), risk.get(m, 0),
                       worklist(month_from=m, month_to=m, street=street or ""),
                       worklist(month_from=m, month_to=m, street=street or "", rule=recon)) for m in window]


def _score_links(street: str, month: str) -> dict[str, str]:
    """Worklists behind a scorecard row: the street's findings first seen up to ``month``, and by state."""
    base = {"street": street, "month_to": month}
    return {"total": worklist(**base), "open": worklist(**base, status="open"),
            "overdue": worklist(**base, overdue="1"), "closed": worklist(**base, status="closed"),
            "recurring": worklist(**base, recurring="1"), "confirmed": worklist(**base, status="confirmed"),
            "month": worklist(street=street, month_from=month, month_to=month)}
