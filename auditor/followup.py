"""Follow-up of findings: statuses, the allowed transitions, queries and the street import.

A finding is a clue to verify, not a verdict (三个区分开来): it is assigned to a
street and a person with a due date, rectified, and closed as ``rectified``,
``confirmed`` (a violation, with the amount recovered in fen) or ``dismissed``
(a false clue; a reason is required). Every change is an ``events`` row with
who, when and why. Reopening (closed -> new) is done by ``store.save_run`` when
a finding recurs in a later month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
from sqlalchemy import and_, func, select, update

from auditor import store
from auditor.errors import AuditInputError

STATUSES = ("new", "assigned", "rectifying", "rectified", "confirmed", "dismissed")
OPEN = ("new", "assigned", "rectifying")
CLOSED = ("rectified", "confirmed", "dismissed")
STATUS_LABELS = {"new": "新发现", "assigned": "已交办", "rectifying": "整改中", "rectified": "已整改",
                 "confirmed": "查实违规", "dismissed": "排除（线索不实）"}
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"assigned", "dismissed"}),
    "assigned": frozenset({"assigned", "rectifying", "confirmed", "dismissed"}),
    "rectifying": frozenset({"rectified", "confirmed", "dismissed"}),
    "rectified": frozenset({"new"}),
    "confirmed": frozenset({"new"}),
    "dismissed": frozenset({"new"}),
}
# closed status -> does a recurrence reopen it as ``recurring``? (dismissed: only on changed facts)
REOPEN = {"rectified": True, "confirmed": True, "dismissed": False}


class TransitionError(AuditInputError):
    """A status change the workflow does not allow."""


def check_transition(current: str, target: str) -> None:
    if target not in STATUSES:
        raise TransitionError(f"未知状态 {target!r} (unknown status; one of {', '.join(STATUSES)})")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "-"
        raise TransitionError(f"不允许的状态变更 {current} → {target} (illegal transition; from {current}: {allowed})")


def _finding(conn, fid: str) -> dict:
    row = conn.execute(select(store.findings).where(store.findings.c.finding_id == fid)).mappings().first()
    if row is None:
        raise AuditInputError(f"问题编号 {fid} 不存在 (unknown finding)")
    return dict(row)


def _change(conn, fid: str, target: str, *, actor: str, action: str, note: str | None,
            values: dict | None = None, amount_fen: int | None = None) -> None:
    current = _finding(conn, fid)["status"]
    check_transition(current, target)
    stamp = store.now()
    conn.execute(update(store.findings).where(store.findings.c.finding_id == fid)
                 .values(status=target, updated_at=stamp, **(values or {})))
    store.bulk_insert(conn, store.events, [store.event_row(fid, stamp, actor, action, current, target, note or "",
                                                          amount_fen)])


def assign(engine, fid: str, *, street: str, person: str, due: date, actor: str, note: str | None = None) -> None:
    """new/assigned -> assigned to ``person`` of ``street``, due on ``due``."""
    if not (street and person and due):
        raise AuditInputError("交办需要街镇、责任人和完成期限 (assign needs street, person and due date)")
    with engine.begin() as conn:
        _change(conn, fid, "assigned", actor=actor, action="assigned",
                note=note or f"交办 {street} {person}，期限 {due}",
                values={"assigned_street": street, "assignee": person, "due_date": due})


def start(engine, fid: str, *, actor: str, note: str | None = None) -> None:
    """assigned -> rectifying."""
    with engine.begin() as conn:
        _change(conn, fid, "rectifying", actor=actor, action="rectifying", note=note)


def add_note(engine, fid: str, *, actor: str, note: str) -> None:
    """An event with a note and no status change."""
    with engine.begin() as conn:
        status = _finding(conn, fid)["status"]
        store.bulk_insert(conn, store.events, [store.event_row(fid, store.now(), actor, "note", status, status, note)])


def close(engine, fid: str, outcome: str, *, actor: str, reason: str | None = None,
          recovered_fen: int | None = None) -> None:
    """Close as ``rectified``, ``confirmed`` (amount recovered in fen) or ``dismissed`` (reason required)."""
    with engine.begin() as conn:
        _close(conn, fid, outcome, actor=actor, reason=reason, recovered_fen=recovered_fen)


def _close(conn, fid: str, outcome: str, *, actor: str, reason: str | None, recovered_fen: int | None) -> None:
    if outcome not in CLOSED:
        raise TransitionError(f"结案方式 {outcome!r} 无效 (close as one of {', '.join(CLOSED)})")
    if outcome == "dismissed" and not (reason or "").strip():
        raise AuditInputError("排除线索必须说明理由 (a dismissed finding needs a reason: 三个区分开来)")
    if outcome != "confirmed" and recovered_fen is not None:
        raise AuditInputError("追回金额只用于查实违规 (amount recovered only for confirmed)")
    if recovered_fen is not None and recovered_fen < 0:
        raise AuditInputError("追回金额不能为负 (amount recovered must be >= 0)")
    values = {"close_reason": reason}
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
    status: list[str] | None = None
    month_from: str | None = None
    month_to: str | None = None
    recurring: bool | None = None
    overdue: bool = False
    finding_ids: list[str] | None = None


def query(engine, f: Filters, today: date | None = None) -> pl.DataFrame:
    """Findings matching ``f`` with their latest occurrence in the month range (title, amount, ...)."""
    fd, oc = store.findings, store.occurrences
    month_cond = [c for c in (oc.c.month >= f.month_from if f.month_from else None,
                              oc.c.month <= f.month_to if f.month_to else None) if c is not None]
    latest = (select(oc.c.finding_id, func.max(oc.c.month).label("month"))
              .where(*month_cond).group_by(oc.c.finding_id).subquery())
    q = (select(fd, oc.c.month, oc.c.program, oc.c.bank_account, oc.c.amount_fen, oc.c.title)
         .join(latest, latest.c.finding_id == fd.c.finding_id)
         .join(oc, and_(oc.c.finding_id == latest.c.finding_id, oc.c.month == latest.c.month)))
    if f.person:
        q = q.where(fd.c.person_id == f.person)
    if f.staff:
        q = q.where(fd.c.staff_id == f.staff)
    if f.street:
        q = q.where(func.coalesce(fd.c.assigned_street, fd.c.street) == f.street)
    if f.rule:
        q = q.where(fd.c.rule.in_(f.rule))
    if f.status:
        bad = [s for s in f.status if s not in STATUSES]
        if bad:
            raise AuditInputError(f"未知状态 {bad} (known: {', '.join(STATUSES)})")
        q = q.where(fd.c.status.in_(f.status))
    if f.recurring is not None:
        q = q.where(fd.c.recurring == f.recurring)
    if f.overdue:
        q = q.where(fd.c.status.in_(OPEN), fd.c.due_date < (today or date.today()))
    if f.finding_ids:
        q = q.where(fd.c.finding_id.in_(f.finding_ids))
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(fd.c.finding_id)).mappings().all()
    return pl.DataFrame([dict(r) for r in rows], infer_schema_length=None) if rows else pl.DataFrame()


def history(engine, fid: str) -> tuple[dict, list[dict], list[dict]]:
    """A finding, its occurrences month by month and its events, oldest first."""
    with engine.connect() as conn:
        finding = _finding(conn, fid)
        occ = conn.execute(select(store.occurrences).where(store.occurrences.c.finding_id == fid)
                           .order_by(store.occurrences.c.month)).mappings().all()
        ev = conn.execute(select(store.events).where(store.events.c.finding_id == fid)
                          .order_by(store.events.c.event_id)).mappings().all()
    return finding, [dict(r) for r in occ], [dict(r) for r in ev]


def issue_rows(engine, frame: pl.DataFrame, month: str) -> pl.DataFrame:
    """The month's findings for the street 问题清单: with their follow-up status, dismissed ones left out.

    A dismissed clue that recurs with the same facts stays closed and is not sent to the street again.
    """
    with engine.connect() as conn:
        rows = conn.execute(select(store.findings.c.finding_id, store.findings.c.status, store.findings.c.recurring)
                            .where(store.findings.c.finding_id.in_(
                                select(store.occurrences.c.finding_id).where(store.occurrences.c.month == month))))
        status = pl.DataFrame([tuple(r) for r in rows], orient="row",
                              schema={"finding_id": pl.String, "status": pl.String, "recurring": pl.Boolean})
    label = pl.col("status").replace_strict(STATUS_LABELS, default=pl.col("status"))
    return (frame.join(status, on="finding_id", how="left").filter(pl.col("status") != "dismissed")
            .with_columns(status=pl.when(pl.col("recurring")).then(pl.format("{}（复发）", label)).otherwise(label))
            .drop("recurring"))


def utc_text(at: datetime) -> str:
    """An event time as ``YYYY-MM-DD HH:MM`` UTC (SQLite returns naive UTC, PostgreSQL aware)."""
    return (at.astimezone(timezone.utc) if at.tzinfo else at).strftime("%Y-%m-%d %H:%M")


def street_of(finding: dict) -> str | None:
    return finding.get("assigned_street") or finding.get("street")


# ---------------------------------------------------------------- import of a returned 问题清单

# 核查结果 + 完成日期 -> target status. Documented in ``import_issues``.
TRUE_RESULTS = ("属实", "部分属实")
FALSE_RESULT = "不属实"
FILL_COLUMNS = ("核查结果", "整改措施", "整改责任人", "完成日期", "备注")


@dataclass
class ImportRow:
    sheet: str
    row: int
    finding_id: str
    target: str
    street: str
    responsible: str | None
    done_on: date | None
    note: str


def _cell_date(value, where: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise AuditInputError(f"{where} 列 完成日期：{value!r} 不是日期 (expected YYYY-MM-DD)")


def read_issues(path: Path) -> list[ImportRow]:
    """Read and validate every filled row of a returned issues.xlsx; raise on the first bad row.

    Mapping (核查结果 → status):
      - 不属实 → ``dismissed``; 备注 is the reason and is required.
      - 属实 / 部分属实 with 完成日期 → ``rectified`` (整改措施 and 备注 kept as the note).
      - 属实 / 部分属实 without 完成日期 → ``rectifying`` (assigned to 整改责任人 if still new).
      - all street columns empty → row skipped (not yet handled); other values are errors.
    ``confirmed`` (a violation with money recovered) is decided by the auditor, not imported.
    """
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is an input error
        raise AuditInputError(f"{path}: 无法读取问题清单 (cannot read xlsx): {exc}") from None
    streets = {}
    if "汇总" in wb.sheetnames:
        for r in wb["汇总"].iter_rows(min_row=4, values_only=True):
            if r and r[0] and len(r) >= 7 and r[6]:
                streets[str(r[6])] = str(r[0])
    out: list[ImportRow] = []
    for ws in wb.worksheets:
        if ws.title == "汇总":
            continue
        rows = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        missing = [c for c in ("问题编号", *FILL_COLUMNS) if c not in header]
        if missing:
            raise AuditInputError(f"{path} 工作表 {ws.title}：缺少列 {', '.join(missing)} (missing columns)")
        col = {name: header.index(name) for name in ("问题编号", *FILL_COLUMNS)}
        for n, values in enumerate(rows, start=2):
            get = (lambda name, v=values: (v[col[name]] if col[name] < len(v) else None))
            text = {name: ("" if get(name) is None else str(get(name)).strip()) for name in FILL_COLUMNS}
            fid = str(get("问题编号") or "").strip()
            where = f"工作表 {ws.title} 第 {n} 行"
            if not any(text.values()):
                continue
            if not fid:
                raise AuditInputError(f"{where} 列 问题编号：为空 (finding id missing)")
            result = text["核查结果"]
            done_on = _cell_date(get("完成日期"), where)
            note = "；".join(f"{k}：{text[k]}" for k in ("核查结果", "整改措施", "备注") if text[k])
            if result == FALSE_RESULT:
                if not text["备注"]:
                    raise AuditInputError(f"{where} 列 备注：核查结果为不属实时必须在备注中说明理由 (reason required)")
                target, note = "dismissed", text["备注"]
            elif result in TRUE_RESULTS:
                target = "rectified" if done_on else "rectifying"
            else:
                raise AuditInputError(f"{where} 列 核查结果：{result or '空'} 无效，应为 "
                                      f"{'、'.join((*TRUE_RESULTS, FALSE_RESULT))} (invalid verification result)")
            out.append(ImportRow(ws.title, n, fid, target, streets.get(ws.title, ws.title),
                                 text["整改责任人"] or None, done_on, note))
    return out


def _path(current: str, target: str) -> list[str]:
    """Shortest chain of allowed forward transitions from ``current`` to ``target``."""
    if current == target:
        return []
    frontier, seen = [[current]], {current}
    while frontier:
        chain = frontier.pop(0)
        for nxt in sorted(TRANSITIONS[chain[-1]] - {"new"}):
            if nxt == target:
                return chain[1:] + [nxt]
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(chain + [nxt])
    raise TransitionError(f"不允许的状态变更 {current} → {target} (illegal transition)")


def import_issues(engine, path: Path, *, actor: str, only_street: str | None = None,
                  rectification_days: int = 30, today: date | None = None) -> dict[str, int]:
    """Apply a street's returned 问题清单 in one transaction after validating every row first.

    Rows whose finding already has the target status are left alone (re-import is harmless).
    """
    rows = read_issues(Path(path))
    today = today or date.today()
    plan: list[tuple[ImportRow, list[str], dict]] = []
    with engine.connect() as conn:
        for r in rows:
            where = f"工作表 {r.sheet} 第 {r.row} 行 列 问题编号"
            row = conn.execute(select(store.findings).where(store.findings.c.finding_id == r.finding_id)
                               ).mappings().first()
            if row is None:
                raise AuditInputError(f"{where}：{r.finding_id} 不存在 (unknown finding)")
            finding = dict(row)
            if only_street and street_of(finding) != only_street:
                raise AuditInputError(f"{where}：{r.finding_id} 不属于 {only_street} (not your street)")
            try:
                steps = _path(finding["status"], r.target)
            except TransitionError as exc:
                raise TransitionError(f"工作表 {r.sheet} 第 {r.row} 行 列 核查结果：{exc}") from None
            if "assigned" in steps and not r.responsible:
                raise AuditInputError(f"工作表 {r.sheet} 第 {r.row} 行 列 整改责任人：尚未交办的问题需填写整改责任人 "
                                      "(responsible person required)")
            plan.append((r, steps, finding))
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for r, steps, finding in plan:
            for step in steps:
                if step == "assigned":
                    due = r.done_on or today + timedelta(days=rectification_days)
                    _change(conn, r.finding_id, "assigned", actor=actor, action="assigned",
                            note=f"问题清单导入：交办 {r.street} {r.responsible}",
                            values={"assigned_street": street_of(finding) or r.street,
                                    "assignee": r.responsible, "due_date": due})
                elif step == "rectifying":
                    _change(conn, r.finding_id, "rectifying", actor=actor, action="rectifying",
                            note=f"问题清单导入：{r.note}")
                else:
                    reason = r.note if step == "dismissed" else f"问题清单导入：{r.note}；完成日期 {r.done_on}"
                    _close(conn, r.finding_id, step, actor=actor, reason=reason, recovered_fen=None)
            counts[r.target if steps else "unchanged"] = counts.get(r.target if steps else "unchanged", 0) + 1
    return counts
