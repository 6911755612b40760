"""The relationship look-up page of a person or a staff member (auditors, inspectors; masked for the
office; a street officer sees their own street's people, others drawn but anonymised)."""

from __future__ import annotations

from pathlib import Path

from auditor.core.config import Profile
from auditor.engine.context import AuditContext
from auditor.followup.accesslog import log_access
from auditor.ingest.loader import load_drop
from auditor.jobs.lookup import NotYourStreet, render_page
from auditor.services.session import Session


def graph_page(s: Session, *, data_dir: str | Path, month: str, profile: Profile, person_id: str | None = None,
               staff_id: str | None = None, unmasked: bool = False) -> str:
    """The self-contained HTML page of the neighbourhood of ``person_id`` (or of ``staff_id``'s person)."""
    target = person_id or staff_id
    s.require("read", "graph.view", target=target)
    unmasked = s.unmasked(unmasked, "graph.view", target=target)
    ctx = AuditContext(month=month, profile=profile, drop=load_drop(data_dir, profile))
    own = s.user.street if s.user.role == "street" else None
    try:
        html = render_page(ctx, person_id=person_id, staff_id=staff_id, masked=not unmasked, own_street=own)
    except NotYourStreet as exc:
        raise s.refuse("graph.view", exc, target) from None
    log_access(s.engine, s.user, "graph.view", target=target, detail={"month": month}, unmasked=unmasked)
    return html
