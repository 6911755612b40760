"""Finding follow-up as a service: query, show, assign, update, close, import and the dossier.

Every function checks the acting user's role and street, masks personal data unless an
allowed role asks for it, and writes the access log.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, select

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_evidence, mask_frame, mask_text, mask_value
from auditor.core.periods import parse_month
from auditor.followup import importer, lifecycle, workflow
from auditor.followup.accesslog import log_access
from auditor.followup.dossier import render_dossier
from auditor.reporting.issues_xlsx import write_issues_xlsx
from auditor.services.session import Session

LIST_COLUMNS = ("finding_id", "rule", "status", "street", "assigned_street", "person_id", "staff_id", "month",
                "amount_fen", "assignee", "due_date", "recurring", "title")


@dataclass(frozen=True)
class FindingQuery:
    """What an inspector, auditor or street officer asks for; every field optional."""

    person: str | None = None
    staff: str | None = None
    street: str | None = None
    rules: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    open_only: bool = False
    month_from: str | None = None
    month_to: str | None = None
    recurring: bool = False
    overdue: bool = False
    age: str | None = None  # a key of ``workflow.AGE_BANDS`` (open findings only)


@dataclass(frozen=True)
class FindingRecord:
    """One finding with its occurrences and events, masked for the viewer unless ``unmasked``."""

    finding: dict[str, Any]
    occurrences: list[dict[str, Any]]
    events: list[dict[str, Any]]
    unmasked: bool


def _filters(s: Session, q: FindingQuery) -> workflow.Filters:
    user, street = s.user, q.street
    if user.role == "street":
        s.require_street(street or user.street, "findings.list", target=street)
        street = user.street
    statuses = list(q.statuses) + (list(lifecycle.OPEN) if q.open_only else [])
    return workflow.Filters(
        person=q.person, staff=q.staff, street=street, rule=list(q.rules) or None,
        severity=list(q.severities) or None, status=statuses or None,
        month_from=parse_month(q.month_from, "--from") if q.month_from else None,
        month_to=parse_month(q.month_to, "--to") if q.month_to else None,
        recurring=True if q.recurring else None, overdue=q.overdue, age=q.age)


def list_findings(s: Session, q: FindingQuery, *, unmasked: bool = False) -> pl.DataFrame:
    """The findings matching ``q`` (``LIST_COLUMNS``), the street officer's own street only."""
    s.require("read", "findings.list")
    unmasked = s.unmasked(unmasked, "findings.list")
    f = _filters(s, q)
    frame = workflow.query(s.engine, f)
    log_access(s.engine, s.user, "findings.list", detail={k: v for k, v in vars(f).items() if v},
               unmasked=unmasked)
    if frame.is_empty():
        return frame
    frame = frame.select(LIST_COLUMNS)
    return frame if unmasked else mask_frame(frame)


def page_findings(s: Session, q: FindingQuery, *, page: int = 1, size: int = 50,
                  order: str = "month") -> tuple[pl.DataFrame, int]:
    """One page (1-based) of the findings matching ``q`` in ``workflow.ORDERS[order]``, masked, and how many
    match in all; the street officer's own street only."""
    s.require("read", "findings.list")
    if order not in workflow.ORDERS:
        raise AuditInputError(f"排序方式 {order!r} 无效 (order by one of {', '.join(workflow.ORDERS)})")
    f = _filters(s, q)
    frame, total = workflow.query_page(s.engine, f, order=order, offset=(max(page, 1) - 1) * size, limit=size)
    log_access(s.engine, s.user, "findings.list", detail={k: v for k, v in vars(f).items() if v} | {"page": page})
    if frame.is_empty():
        return frame, total
    return mask_frame(frame.select(LIST_COLUMNS)), total


def _open(s: Session, fid: str, action: str) -> tuple[dict, list[dict], list[dict]]:
    finding, occ, events = workflow.history(s.engine, fid)
    s.require_street(workflow.street_of(finding), action, target=fid)
    return finding, occ, events


def show_finding(s: Session, fid: str, *, unmasked: bool = False, action: str = "findings.show") -> FindingRecord:
    """One finding, its months and its events; logged as ``action``."""
    s.require("read", action, target=fid)
    unmasked = s.unmasked(unmasked, action, target=fid)
    finding, occ, events = _open(s, fid, action)
    log_access(s.engine, s.user, action, target=fid, unmasked=unmasked)
    if not unmasked:
        finding = finding | {"person_id": mask_value(finding["person_id"])}
        occ = [o | {"person_id": mask_value(o["person_id"]), "bank_account": mask_value(o["bank_account"]),
                    "title": mask_text(o["title"]), "evidence": mask_evidence(o["evidence"])} for o in occ]
        events = [e | {"note": mask_text(e["note"])} for e in events]
    return FindingRecord(finding, occ, events, unmasked)


def dossier(s: Session, fid: str, *, unmasked: bool = False) -> str:
    """The case dossier of one finding as a self-contained HTML page."""
    s.require("read", "findings.dossier", target=fid)
    unmasked = s.unmasked(unmasked, "findings.dossier", target=fid)
    finding, occ, events = _open(s, fid, "findings.dossier")
    log_access(s.engine, s.user, "findings.dossier", target=fid, unmasked=unmasked)
    return render_dossier(finding, occ, events, unmasked=unmasked, viewer=s.user)


def _each(s: Session, fids: list[str], permission: str, action: str,
          fn: Callable[[str, dict], None]) -> list[str]:
    """Apply ``fn(fid, finding)`` to every finding after checking role and street; log each."""
    s.require(permission, action, target=",".join(fids))
    for fid in fids:
        finding, _, _ = _open(s, fid, action)
        fn(fid, finding)
        log_access(s.engine, s.user, action, target=fid)
    return fids


def assign(s: Session, fids: list[str], *, person: str, street: str | None = None, due: date | None = None,
           note: str | None = None, rectification_days: int = 30) -> list[str]:
    """Assign findings to ``person`` of ``street`` (default: the finding's street), due on ``due``."""
    today = date.today()
    if due is not None and due < today:
        raise AuditInputError(f"--due {due} 早于今天 {today}，完成期限须为今天或以后 (due date in the past)")
    due = due or today + timedelta(days=rectification_days)
    return _each(s, fids, "assign", "findings.assign", lambda fid, f: workflow.assign(
        s.engine, fid, street=street or f["street"], person=person, due=due, actor=s.user.name, note=note))


def update(s: Session, fids: list[str], *, start: bool, note: str | None) -> list[str]:
    """Start rectifying (``start``) or add a note."""
    def apply(fid: str, _finding: dict) -> None:
        if start:
            workflow.start(s.engine, fid, actor=s.user.name, note=note)
        else:
            workflow.add_note(s.engine, fid, actor=s.user.name, note=note or "")
    return _each(s, fids, "update", "findings.update", apply)


def close(s: Session, fids: list[str], *, outcome: str, reason: str | None = None,
          recovered_fen: int | None = None) -> list[str]:
    """Close as rectified, confirmed (with the amount recovered; auditors only) or dismissed (with a reason)."""
    if outcome == "confirmed":
        s.require("confirm", "findings.close", target=",".join(fids))
    return _each(s, fids, "close", "findings.close", lambda fid, _f: workflow.close(
        s.engine, fid, outcome, actor=s.user.name, reason=reason, recovered_fen=recovered_fen))


def verify(s: Session, fid: str, fill: dict[str, str], *, rectification_days: int = 30) -> dict[str, int]:
    """Record a street's verification of one finding online: ``fill`` holds ``importer.FILL_COLUMNS``, mapped
    to a status as an imported 问题清单 row is; every problem is raised at once."""
    s.require("update", "findings.verify", target=fid)
    _open(s, fid, "findings.verify")
    text = {name: (fill.get(name) or "").strip() for name in importer.FILL_COLUMNS}
    problems = importer.Problems(fid, "核查登记 问题")
    checked = importer.check_fill(text, text["完成日期"], "核查登记", problems)
    if checked is None:
        problems.raise_if_any()
    assert checked is not None
    target, note, done_on = checked
    street = s.user.street if s.user.role == "street" else None
    row = importer.ImportRow("核查登记", 0, fid, target, street or "", text["整改责任人"] or None, done_on, note)
    counts = importer.apply_rows(s.engine, [row], problems, actor=s.user.name, only_street=street,
                                 rectification_days=rectification_days, source="网上核查登记")
    log_access(s.engine, s.user, "findings.verify", target=fid, detail=counts)
    return counts


ISSUE_COLUMNS = ("finding_id", "rule", "severity", "street", "program", "person_id", "case_id", "staff_id",
                 "bank_account", "application_id", "record_id", "amount_fen", "title", "evidence")


def issues_workbook(s: Session, *, street: str | None, month: str | None, district: str) -> tuple[str, bytes]:
    """The 问题清单 of ``street`` (a street officer: their own) for ``month`` (default: the latest month with
    findings of the street) built from the stored findings, masked; returns (month, xlsx bytes)."""
    s.require("read", "findings.issues")
    street = street or (s.user.street if s.user.role == "street" else None)
    if not street:
        raise AuditInputError("请选择街镇 (street required: ?street=...)")
    s.require_street(street, "findings.issues", target=street)
    oc, fd = store.occurrences, store.findings
    mine = select(fd.c.finding_id).where(func.coalesce(fd.c.assigned_street, fd.c.street) == street)
    with s.engine.connect() as conn:
        month = (parse_month(month, "month") if month else
                 conn.execute(select(func.max(oc.c.month)).where(oc.c.finding_id.in_(mine))).scalar_one())
        rows = conn.execute(select(*(oc.c[c] for c in ISSUE_COLUMNS))
                            .where(oc.c.month == month, oc.c.finding_id.in_(mine))
                            .order_by(oc.c.finding_id)).all() if month else []
    schema = {c: store.occurrences.c[c].type.python_type for c in ISSUE_COLUMNS}
    frame = pl.DataFrame([tuple(r) for r in rows], orient="row",
                         schema={c: pl.Int64 if t is int else pl.String for c, t in schema.items()})
    frame = workflow.issue_rows(s.engine, frame.with_columns(street=pl.lit(street)), month or "")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "issues.xlsx"
        write_issues_xlsx(frame, path, month=month or "", district=district, mask=mask_frame)
        content = path.read_bytes()
    log_access(s.engine, s.user, "findings.issues", target=street, detail={"month": month, "rows": frame.height})
    return month or "", content


def import_returned(s: Session, path: Path, *, rectification_days: int = 30) -> dict[str, int]:
    """Apply a street's returned 问题清单; a street officer may only import their own street's rows."""
    s.require("import", "findings.import", target=str(path))
    counts = importer.import_issues(s.engine, path, actor=s.user.name,
                                    only_street=s.user.street if s.user.role == "street" else None,
                                    rectification_days=rectification_days)
    log_access(s.engine, s.user, "findings.import", target=str(path), detail=counts)
    return counts
