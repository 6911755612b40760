"""Reading the access log (auditors, inspectors): filtered pages, "who has looked at this person", and
verifying the chain. Targets and details are masked unless the reader unmasks with a reason; every
reading is itself logged (``access_log.view``, ``access_log.verify``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_evidence, mask_text
from auditor.core.periods import BEIJING
from auditor.followup.accesslog import LogCheck, log_access, verify_log
from auditor.services.session import Session

PAGE_SIZE = 50


@dataclass(frozen=True)
class LogFilter:
    """Every field optional: who acted, whom or which finding it was about, Beijing dates (inclusive)."""

    user: str | None = None
    person: str | None = None  # a resident id or staff id (the entry's target)
    finding: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def _utc_text(day: date) -> str:
    """The stored ``at`` text of the start of a Beijing day (ISO, UTC), comparable as text."""
    return datetime.combine(day, time(), BEIJING).astimezone(UTC).isoformat(timespec="microseconds")


def _where(f: LogFilter) -> list[Any]:
    log = store.access_log
    cond: list[Any] = []
    if f.user:
        cond.append(log.c.actor == f.user)
    if f.person:
        cond.append(log.c.target == f.person)
    if f.finding:
        cond.append(log.c.target.in_([f.finding, f"/findings/{f.finding}"]))
    if f.date_from:
        cond.append(log.c.at >= _utc_text(f.date_from))
    if f.date_to:
        cond.append(log.c.at < _utc_text(f.date_to + timedelta(days=1)))
    return cond


def _entry(r: Any, unmasked: bool) -> dict[str, Any]:
    detail = r["detail"] or ""
    try:
        reason = json.loads(detail).get("reason") if detail.startswith("{") else None
    except ValueError:
        reason = None
    at = datetime.fromisoformat(r["at"]).astimezone(BEIJING)
    return {"seq": r["seq"], "at": at.strftime("%Y-%m-%d %H:%M:%S"), "actor": r["actor"], "role": r["role"],
            "action": r["action"], "target": r["target"] if unmasked else mask_text(r["target"]),
            "detail": "" if detail == "{}" else detail if unmasked else mask_evidence(detail),
            "unmasked": bool(r["unmasked"]), "reason": reason if unmasked or not reason else mask_text(reason)}


def page_log(s: Session, f: LogFilter, *, page: int = 1, size: int = PAGE_SIZE, unmasked: bool = False,
             reason: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """One page (newest first) of the entries matching ``f`` and how many match; logged, with the reason
    when unmasked (which needs one)."""
    s.require("access_log", "access_log.view")
    if unmasked:
        s.unmasked(True, "access_log.view")
        if not (reason or "").strip():
            raise s.refuse("access_log.view.unmasked", AuditInputError(
                "查看完整信息须填写事由 (a reason is required to unmask)"))
    log = store.access_log
    cond = _where(f)
    with s.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(log).where(and_(True, *cond))).scalar_one()
        rows = conn.execute(select(log).where(and_(True, *cond)).order_by(log.c.seq.desc())
                            .offset((max(page, 1) - 1) * size).limit(size)).mappings().all()
    detail: dict[str, Any] = {k: str(v) for k, v in vars(f).items() if v} | {"page": page}
    if unmasked and reason:
        detail["reason"] = reason.strip()
    log_access(s.engine, s.user, "access_log.view", target=f.person or f.finding, detail=detail, unmasked=unmasked)
    return [_entry(r, unmasked) for r in rows], total


def viewers(s: Session, target: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Who has looked at ``target`` (a person or staff id), newest first; only for readers of the log."""
    if not s.user.can("access_log"):
        return []
    log = store.access_log
    with s.engine.connect() as conn:
        rows = conn.execute(select(log).where(log.c.target == target).order_by(log.c.seq.desc())
                            .limit(limit)).mappings().all()
    return [_entry(r, False) for r in rows]


def verify(s: Session) -> LogCheck:
    """Check the whole chain against the key and the anchor; logged with its outcome."""
    s.require("verify", "access_log.verify")
    check = verify_log(s.engine)
    log_access(s.engine, s.user, "access_log.verify", detail={"state": check.state, "entries": check.entries})
    return check
