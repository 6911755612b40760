"""The relationship look-up page of a person or a staff member (inspectors)."""

from __future__ import annotations

from pathlib import Path

from auditor.core.config import Profile
from auditor.engine.context import AuditContext
from auditor.ingest.loader import load_drop
from auditor.jobs.lookup import render_page


def graph_page(*, data_dir: str | Path, month: str, profile: Profile, person_id: str | None = None,
               staff_id: str | None = None) -> str:
    """The self-contained HTML page of the neighbourhood of ``person_id`` (or of ``staff_id``'s person)."""
    ctx = AuditContext(month=month, profile=profile, drop=load_drop(data_dir, profile))
    return render_page(ctx, person_id=person_id, staff_id=staff_id)
