"""The store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

- ``findings``: one row per finding_id (rule + subject), holding follow-up state
  that carries across months (status, assignee, due date, ...).
- ``occurrences``: one row per (finding_id, month): what the audit saw that
  month (amount, title, evidence). Re-running a month replaces its occurrences.
- ``finding_people``: one row per (finding_id, month, person_id, role): every person a finding
  involves (``auditor.engine.people``), so a person's findings are found wherever they appear.
- ``events``: every change of a finding, with who, when and why.
- ``runs``: one row per audit run with its summary.
- ``users``: who may use the follow-up commands, with a role (see ``auditor.followup.privacy``).
- ``sessions``: signed-in web sessions, revocable (see ``auditor.web.auth``).
- ``access_log``: append-only, hash-chained record of every query and unmasked view.
- ``locks``: who holds each lock (e.g. ``audit:2026-10``), for the waiter's message; the lock itself is
  an advisory lock or a file lock (``auditor.store.lock``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    func,
)

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("month", String(7), nullable=False, index=True),
    Column("profile", String(64), nullable=False),
    Column("data_dir", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("summary", Text),
)

findings = Table(
    "findings", metadata,
    Column("finding_id", String(32), primary_key=True),
    Column("rule", String(8), nullable=False, index=True),
    Column("severity", String(8), nullable=False),
    Column("street", String(64), index=True),
    Column("person_id", String(32), index=True),
    Column("case_id", String(64)),
    Column("staff_id", String(64), index=True),
    Column("first_month", String(7), nullable=False),
    Column("last_month", String(7), nullable=False),
    Column("status", String(16), nullable=False, default="new"),
    Column("recurring", Boolean, nullable=False, default=False),
    Column("assignee", String(64)),
    Column("assigned_street", String(64)),
    Column("due_date", Date),
    Column("amount_recovered_fen", BigInteger),
    Column("close_reason", Text),
    Column("facts_hash", String(40)),
    Column("updated_at", DateTime(timezone=True)),
)

occurrences = Table(
    "occurrences", metadata,
    Column("finding_id", String(32), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("run_id", Integer, nullable=False),
    Column("rule", String(8), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("street", String(64)),
    Column("program", String(32)),
    Column("person_id", String(32)),
    Column("case_id", String(64)),
    Column("staff_id", String(64)),
    Column("bank_account", Text),
    Column("application_id", String(64)),
    Column("record_id", String(64)),
    Column("amount_fen", BigInteger),
    Column("title", Text, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("facts_hash", String(40), nullable=False),
    Column("facts", Text),  # canonical JSON of the stable facts (auditor.engine.facts)
)

# the worklist's pages (migration 0005): each order and the street filter walk an index, no sort of every row
Index("ix_findings_work_month", findings.c.last_month, findings.c.finding_id)
Index("ix_findings_work_street", func.coalesce(findings.c.assigned_street, findings.c.street),
      findings.c.last_month, findings.c.finding_id)
Index("ix_findings_work_status", findings.c.status, findings.c.last_month, findings.c.finding_id)
Index("ix_findings_work_due", findings.c.due_date, findings.c.finding_id)
Index("ix_occurrences_work_amount", occurrences.c.amount_fen, occurrences.c.finding_id)

finding_people = Table(
    "finding_people", metadata,
    Column("finding_id", String(32), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("person_id", String(32), primary_key=True, index=True),
    Column("role", String(24), primary_key=True),
)

events = Table(
    "events", metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("finding_id", String(32), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16)),
    Column("note", Text),
    Column("amount_fen", BigInteger),  # amount recovered, on a ``confirmed`` close
)

users = Table(
    "users", metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("street", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_hash", Text),  # Argon2id (auditor.followup.accounts); none: cannot sign in on the web
    Column("must_change", Boolean, nullable=False, server_default=false()),
    Column("failed_count", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
    Column("disabled", Boolean, nullable=False, server_default=false()),
)

sessions = Table(
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the cookie's token; the token is never stored
    Column("user_name", String(64), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("revoked", Boolean, nullable=False, server_default=false()),
)

access_log = Table(
    "access_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),  # ISO text: hashed exactly as stored
    Column("actor", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", Text),
    Column("detail", Text),
    Column("unmasked", Boolean, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

locks = Table(
    "locks", metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
)

OCCURRENCE_COLUMNS = [c.name for c in occurrences.columns]


def now() -> datetime:
    return datetime.now(UTC)


def event_row(fid: str, at: datetime, actor: str, action: str, from_status: str | None, to_status: str | None,
           note: str, amount_fen: int | None = None) -> dict:
    return {"finding_id": fid, "at": at, "actor": actor, "action": action, "from_status": from_status,
            "to_status": to_status, "note": note, "amount_fen": amount_fen}
