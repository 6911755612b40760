"""Finding follow-up as a service: query, show, assign, update, close, import and the dossier.

Every function checks the acting user's role and street, masks personal data unless an
allowed role asks for it, and writes the access log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_evidence, mask_frame, mask_text, mask_value
from auditor.core.periods import parse_month
from auditor.followup import importer, lifecycle, workflow
from auditor.followup.accesslog import log_access
from auditor.followup.dossier import render_dossier
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
    statuses: list[str] = field(default_factory=list)
    open_only: bool = False
    month_from: str | None = None
    month_to: str | None = None
    recurring: bool = False
    overdue: bool = False


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
        person=q.person, staff=q.staff, street=street, rule=list(q.rules) or None, status=statuses or None,
        month_from=parse_month(q.month_from, "--from") if q.month_from else None,
        month_to=parse_month(q.month_to, "--to") if q.month_to else None,
        recurring=True if q.recurring else None, overdue=q.overdue)


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


def import_returned(s: Session, path: Path, *, rectification_days: int = 30) -> dict[str, int]:
    """Apply a street's returned 问题清单; a street officer may only import their own street's rows."""
    s.require("import", "findings.import", target=str(path))
    counts = importer.import_issues(s.engine, path, actor=s.user.name,
                                    only_street=s.user.street if s.user.role == "street" else None,
                                    rectification_days=rectification_days)
    log_access(s.engine, s.user, "findings.import", target=str(path), detail=counts)
    return counts
