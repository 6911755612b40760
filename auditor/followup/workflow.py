"""The follow-up workflow: assign, rectify, close, query and the history of a finding.

A finding is a clue to verify, not a verdict (三个区分开来): it is assigned to a
street and a person with a due date, rectified, and closed as ``rectified``,
``confirmed`` (a violation, with the amount recovered in fen) or ``dismissed``
(a false clue; a reason is required). Every change is an ``events`` row with
who, when and why. Reopening (closed -> new) is done by ``recurrence.save_run``
when a finding recurs in a later month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import polars as pl
from sqlalchemy import ColumnElement, Select, and_, func, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.core.vocab import FINDING_STATUS_LABELS, FINDING_STATUSES
from auditor.followup.lifecycle import CLOSED, OPEN, TransitionError, check_transition


def _finding(conn: Connection, fid: str) -> dict:
    row = conn.execute(select(store.findings).where(store.findings.c.finding_id == fid)).mappings().first()
    if row is None:
        raise AuditInputError(f"问题编号 {fid} 不存在 (unknown finding)")
    return dict(row)


def _change(conn: Connection, fid: str, target: str, *, actor: str, action: str, note: str | None,
            values: dict | None = None, amount_fen: int | None = None) -> None:
    current = _finding(conn, fid)["status"]
    check_transition(current, target)
    stamp = store.now()
    conn.execute(update(store.findings).where(store.findings.c.finding_id == fid)
                 .values(status=target, updated_at=stamp, **(values or {})))
    store.bulk_insert(conn, store.events, [store.event_row(fid, stamp, actor, action, current, target, note or "",
                                                          amount_fen)])


def assign(engine: Engine, fid: str, *, street: str, person: str, due: date, actor: str,
           note: str | None = None) -> None:
    """new/assigned -> assigned to ``person`` of ``street``, due on ``due``."""
    if not (street and person and due):
        raise AuditInputError("交办需要街镇、责任人和完成期限 (assign needs street, person and due date)")
    with engine.begin() as conn:
        _change(conn, fid, "assigned", actor=actor, action="assigned",
                note=note or f"交办 {street} {person}，期限 {due}",
                values={"assigned_street": street, "assignee": person, "due_date": due})


def start(engine: Engine, fid: str, *, actor: str, note: str | None = None) -> None:
    """assigned -> rectifying."""
    with engine.begin() as conn:
        _change(conn, fid, "rectifying", actor=actor, action="rectifying", note=note)


def add_note(engine: Engine, fid: str, *, actor: str, note: str) -> None:
    """An event with a note and no status change."""
    with engine.begin() as conn:
        status = _finding(conn, fid)["status"]
        store.bulk_insert(conn, store.events, [store.event_row(fid, store.now(), actor, "note", status, status, note)])


def close(engine: Engine, fid: str, outcome: str, *, actor: str, reason: str | None = None,
          recovered_fen: int | None = None) -> None:
    """Close as ``rectified``, ``confirmed`` (amount recovered in fen) or ``dismissed`` (reason required)."""
    with engine.begin() as conn:
        _close(conn, fid, outcome, actor=actor, reason=reason, recovered_fen=recovered_fen)


def _close(conn: Connection, fid: str, outcome: str, *, actor: str, reason: str | None,
           recovered_fen: int | None) -> None:
    if outcome not in CLOSED:
        raise TransitionError(f"结案方式 {outcome!r} 无效 (close as one of {', '.join(CLOSED)})")
    if outcome == "dismissed" and not (reason or "").strip():
        raise AuditInputError("排除线索必须说明理由 (a dismissed finding needs a reason: 三个区分开来)")
    if outcome != "confirmed" and recovered_fen is not None:
        raise AuditInputError("追回金额只用于查实违规 (amount recovered only for confirmed)")
    if recovered_fen is not None and recovered_fen < 0:
        raise AuditInputError("追回金额不能为负 (amount recovered must be >= 0)")
    values: dict[str, str | int | None] = {"close_reason": reason}
    if outcome == "confirmed":
        total = (_finding(conn, fid)["amount_recovered_fen"] or 0) + (recovered_fen or 0)
        values["amount_recovered_fen"] = total
    _change(conn, fid, outcome, actor=actor, action=f"closed_{outcome}", note=reason, values=values,
            amount_fen=recovered_fen if outcome == "confirmed" else None)


# ---------------------------------------------------------------- queries


@dataclass
class Filters:
    """What an inspector or auditor asks for; every field optional."""

    person: str | None = None
    staff: str | None = None
    street: str | None = None
    rule: list[str] | None = None
    severity: list[str] | None = None
    status: list[str] | None = None
    month_from: str | None = None
    month_to: str | None = None
    recurring: bool | None = None
    overdue: bool = False
    finding_ids: list[str] | None = None
    age: str | None = None  # a key of ``AGE_BANDS``: open findings (re)opened that many days ago


# ageing of open findings: key -> (label, more than ``low`` days, at most ``high`` days) since the finding was
# created or last reopened (UTC dates of its events)
AGE_BANDS = {"0-30": ("30天内", 0, 30), "31-60": ("31–60天", 30, 60), "61-90": ("61–90天", 60, 90),
             "90+": ("90天以上", 90, None)}
OPENED = ("created", "reopened")
DISTRICT = "区级"  # the street shown for findings with none (dishonesty records...); a street filter value


# worklist orders: key -> (column of findings or of the latest occurrence, descending); ties by finding id in
# the same direction, so an index on (column, finding_id) serves a page without sorting (migration 0005)
ORDERS = {"month": ("last_month", True), "amount": ("amount_fen", True), "due": ("due_date", False),
          "rule": ("rule", False), "street": ("street", False), "status": ("status", False)}


def query(engine: Engine, f: Filters, today: date | None = None) -> pl.DataFrame:
    """Findings matching ``f`` with their latest occurrence in the month range (title, amount, ...)."""
    with engine.connect() as conn:
        rows = conn.execute(_select(f, today).order_by(store.findings.c.finding_id)).mappings().all()
    return _frame(rows)


def query_page(engine: Engine, f: Filters, *, order: str = "month", offset: int = 0, limit: int = 50,
               today: date | None = None) -> tuple[pl.DataFrame, int]:
    """One page of ``query`` in ``ORDERS[order]`` and the number of findings matching ``f``."""
    fd, oc = store.findings, store.occurrences
    name, descending = ORDERS[order]
    if name == "last_month" and f.month_to is not None:
        name = "month"  # the latest month within the range, not the finding's last month
    column = oc.c.amount_fen if name == "amount_fen" else oc.c.month if name == "month" else fd.c[name]
    tie = (oc if name in ("amount_fen", "month") else fd).c.finding_id  # the index's own second column
    keys = [column.desc(), tie.desc()] if descending else [column.asc(), tie.asc()]
    if f.month_to is None:  # every finding has its last month's occurrence: count the findings alone
        counted = select(func.count()).select_from(fd).where(*_conditions(f, today))
        if f.month_from:
            counted = counted.where(fd.c.last_month >= f.month_from)
    else:
        counted = select(func.count()).select_from(_select(f, today).subquery())
    with engine.connect() as conn:
        total = conn.execute(counted).scalar_one()
        rows = conn.execute(_select(f, today).order_by(*keys).offset(offset).limit(limit)).mappings().all()
    return _frame(rows), int(total)


def _frame(rows: Sequence[RowMapping]) -> pl.DataFrame:
    return pl.DataFrame([dict(r) for r in rows], infer_schema_length=None) if rows else pl.DataFrame()


def _select(f: Filters, today: date | None) -> Select:
    fd, oc = store.findings, store.occurrences
    columns = (fd, oc.c.month, oc.c.program, oc.c.bank_account, oc.c.amount_fen, oc.c.title)
    if f.month_to is None:  # the latest occurrence is the finding's last month: no grouping needed
        q = select(*columns).join(oc, and_(oc.c.finding_id == fd.c.finding_id, oc.c.month == fd.c.last_month))
        if f.month_from:
            q = q.where(fd.c.last_month >= f.month_from)
    else:
        month_cond = [c for c in (oc.c.month >= f.month_from if f.month_from else None, oc.c.month <= f.month_to)
                      if c is not None]
        latest = (select(oc.c.finding_id, func.max(oc.c.month).label("month"))
                  .where(*month_cond).group_by(oc.c.finding_id).subquery())
        q = (select(*columns)
             .join(latest, latest.c.finding_id == fd.c.finding_id)
             .join(oc, and_(oc.c.finding_id == latest.c.finding_id, oc.c.month == latest.c.month)))
    return q.where(*_conditions(f, today))


def _conditions(f: Filters, today: date | None) -> list[ColumnElement[bool]]:
    """The filters of ``f`` on the findings table (the month range is the caller's)."""
    fd = store.findings
    conds: list[ColumnElement[bool]] = []
    if f.person:  # wherever the person appears (subject, payee, account holder, relative, path)
        fp = store.finding_people
        conds.append((fd.c.person_id == f.person)
                     | fd.c.finding_id.in_(select(fp.c.finding_id).where(fp.c.person_id == f.person)))
    if f.staff:
        conds.append(fd.c.staff_id == f.staff)
    if f.street == DISTRICT:
        conds.append(func.coalesce(fd.c.assigned_street, fd.c.street).is_(None))
    elif f.street:
        conds.append(func.coalesce(fd.c.assigned_street, fd.c.street) == f.street)
    if f.rule:
        conds.append(fd.c.rule.in_(f.rule))
    if f.severity:
        conds.append(fd.c.severity.in_(f.severity))
    if f.status:
        bad = [s for s in f.status if s not in FINDING_STATUSES]
        if bad:
            raise AuditInputError(f"未知状态 {bad} (known: {', '.join(FINDING_STATUSES)})")
        conds.append(fd.c.status.in_(f.status))
    if f.recurring is not None:
        conds.append(fd.c.recurring == f.recurring)
    if f.overdue:
        conds += [fd.c.status.in_(OPEN), fd.c.due_date < (today or date.today())]
    if f.finding_ids:
        conds.append(fd.c.finding_id.in_(f.finding_ids))
    if f.age:
        conds += [fd.c.status.in_(OPEN), _age_band(f.age, today or date.today())]
    return conds


def _age_band(key: str, today: date) -> ColumnElement[bool]:
    """Findings last (re)opened more than ``low`` and at most ``high`` days before ``today``."""
    if key not in AGE_BANDS:
        raise AuditInputError(f"账龄 {key!r} 无效 (age band one of {', '.join(AGE_BANDS)})")
    _, low, high = AGE_BANDS[key]
    ev, fd = store.events, store.findings
    opened = (select(ev.c.finding_id, func.max(ev.c.at).label("at")).where(ev.c.action.in_(OPENED))
              .group_by(ev.c.finding_id).subquery())

    def older(days: int) -> Select:  # age > days  <=>  opened before midnight (UTC) of today - days
        return select(opened.c.finding_id).where(opened.c.at < datetime.combine(today - timedelta(days=days),
                                                                                 time(), UTC))

    if high is None:
        return fd.c.finding_id.in_(older(low))
    if low == 0:  # no opening event counts as age 0
        return fd.c.finding_id.not_in(older(high))
    return fd.c.finding_id.in_(older(low)) & fd.c.finding_id.not_in(older(high))


def scope(f: Filters, today: date | None = None) -> list[ColumnElement[bool]]:
    """The conditions on ``findings`` selecting exactly what ``query`` returns for ``f`` (no join needed: a month
    range is a finding with an occurrence in it), for counting and summing by group."""
    conds = _conditions(f, today)
    oc = store.occurrences
    if f.month_to is not None:
        in_range = select(oc.c.finding_id).where(oc.c.month <= f.month_to)
        if f.month_from:
            in_range = in_range.where(oc.c.month >= f.month_from)
        conds.append(store.findings.c.finding_id.in_(in_range))
    elif f.month_from:
        conds.append(store.findings.c.last_month >= f.month_from)
    return conds


def history(engine: Engine, fid: str) -> tuple[dict, list[dict], list[dict]]:
    """A finding, its occurrences month by month and its events, oldest first."""
    with engine.connect() as conn:
        finding = _finding(conn, fid)
        occ = conn.execute(select(store.occurrences).where(store.occurrences.c.finding_id == fid)
                           .order_by(store.occurrences.c.month)).mappings().all()
        ev = conn.execute(select(store.events).where(store.events.c.finding_id == fid)
                          .order_by(store.events.c.event_id)).mappings().all()
    return finding, [dict(r) for r in occ], [dict(r) for r in ev]


def issue_rows(engine: Engine, frame: pl.DataFrame, month: str) -> pl.DataFrame:
    """The month's findings for the street 问题清单: with their follow-up status, dismissed ones left out.

    A dismissed clue that recurs with the same facts stays closed and is not sent to the street again.
    """
    with engine.connect() as conn:
        rows = conn.execute(select(store.findings.c.finding_id, store.findings.c.status, store.findings.c.recurring)
                            .where(store.findings.c.finding_id.in_(
                                select(store.occurrences.c.finding_id).where(store.occurrences.c.month == month))))
        status = pl.DataFrame([tuple(r) for r in rows], orient="row",
                              schema={"finding_id": pl.String, "status": pl.String, "recurring": pl.Boolean})
    label = pl.col("status").replace_strict(FINDING_STATUS_LABELS, default=pl.col("status"))
    return (frame.join(status, on="finding_id", how="left").filter(pl.col("status") != "dismissed")
            .with_columns(status=pl.when(pl.col("recurring")).then(pl.format("{}（复发）", label)).otherwise(label))
            .drop("recurring"))


def street_of(finding: dict) -> str | None:
    return finding.get("assigned_street") or finding.get("street")
