"""The findings store (SQLAlchemy Core): runs, findings, their monthly occurrences, events.

- ``findings``: one row per finding_id (rule + subject), holding follow-up state
  that carries across months (status, assignee, due date, ...).
- ``occurrences``: one row per (finding_id, month): what the audit saw that
  month (amount, title, evidence). Re-running a month replaces its occurrences.
- ``events``: every change of a finding, with who, when and why.
- ``runs``: one row per audit run with its summary.

A run is saved in one transaction: a failure half-way leaves the previous
state intact. Embedded SQLite is the default; PostgreSQL works the same.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Integer, MetaData, String, Table, Text,
                        create_engine, delete, event, func, insert, select, update)
from sqlalchemy.engine import Engine

DEFAULT_DB = "sqlite:///out/auditor.db"
BATCH = 5000
COPY_MIN_ROWS = 100  # below this, executemany is as quick as COPY

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
)

OCCURRENCE_COLUMNS = [c.name for c in occurrences.columns]


def connect(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: embedded SQLite under ``out/``) with the schema created."""
    url = url or DEFAULT_DB
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    metadata.create_all(engine)
    return engine


def now() -> datetime:
    return datetime.now(timezone.utc)


def facts_hash(rule: str, amount_fen: int | None, evidence: str) -> str:
    """Fingerprint of a finding's facts, to tell whether they changed between months."""
    return hashlib.sha1(f"{rule}|{amount_fen}|{evidence}".encode()).hexdigest()


def _batches(rows: list, size: int = BATCH):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def bulk_insert(conn, table: Table, rows: list[dict]) -> None:
    """Insert many rows; the one place bulk writes happen.

    PostgreSQL: one ``COPY ... FROM STDIN`` through psycopg (rows that all
    carry the same columns); otherwise batched executemany. Either way inside
    the caller's transaction.
    """
    if not rows:
        return
    columns = list(rows[0])
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg" and len(rows) >= COPY_MIN_ROWS \
            and all(r.keys() == rows[0].keys() for r in rows):
        preparer = conn.dialect.identifier_preparer
        names = ", ".join(preparer.quote(c) for c in columns)
        with conn.connection.driver_connection.cursor() as cur:
            with cur.copy(f"COPY {preparer.format_table(table)} ({names}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row([r[c] for c in columns])
        return
    for batch in _batches(rows):
        conn.execute(insert(table), batch)


def save_run(engine: Engine, *, month: str, profile: str, data_dir: str, started_at: datetime,
             frame: pl.DataFrame, summary: dict, actor: str = "system") -> int:
    """Store one audit run and its findings in one transaction; return the run id.

    The month's occurrences are replaced; findings (and their follow-up state)
    are inserted when new and otherwise kept, with ``last_month`` advanced.
    """
    stamp = now()
    hashes = [facts_hash(r, a, e) for r, a, e in frame.select("rule", "amount_fen", "evidence").iter_rows()]
    frame = frame.with_columns(facts_hash=pl.Series(hashes, dtype=pl.String))
    with engine.begin() as conn:
        run_id = conn.execute(insert(runs).values(
            month=month, profile=profile, data_dir=data_dir, started_at=started_at,
            finished_at=stamp, status="ok", summary=json.dumps(summary, ensure_ascii=False, default=str),
        )).inserted_primary_key[0]
        conn.execute(delete(occurrences).where(occurrences.c.month == month))
        bulk_insert(conn, occurrences, frame.with_columns(run_id=pl.lit(run_id)).select(OCCURRENCE_COLUMNS).to_dicts())

        existing = {r.finding_id: r for r in conn.execute(
            select(findings.c.finding_id, findings.c.first_month, findings.c.last_month)
            .where(findings.c.finding_id.in_(select(occurrences.c.finding_id)
                                             .where(occurrences.c.month == month))))}
        new_rows, new_events = [], []
        for r in frame.select("finding_id", "rule", "severity", "street", "person_id", "case_id",
                              "staff_id", "facts_hash").iter_rows(named=True):
            old = existing.get(r["finding_id"])
            if old is None:
                new_rows.append({**r, "first_month": month, "last_month": month, "status": "new",
                                 "recurring": False, "updated_at": stamp})
                new_events.append({"finding_id": r["finding_id"], "at": stamp, "actor": actor,
                                   "action": "created", "from_status": None, "to_status": "new",
                                   "note": f"{month} 审计发现"})
        bulk_insert(conn, findings, new_rows)
        bulk_insert(conn, events, new_events)
        later = [fid for fid, r in existing.items() if r.last_month < month]
        for batch in _batches(later):
            conn.execute(update(findings).where(findings.c.finding_id.in_(batch))
                         .values(last_month=month, updated_at=stamp))
        earlier = [fid for fid, r in existing.items() if r.first_month > month]
        for batch in _batches(earlier):
            conn.execute(update(findings).where(findings.c.finding_id.in_(batch)).values(first_month=month))
    return int(run_id)


def month_findings(engine: Engine, month: str) -> pl.DataFrame:
    """The occurrences stored for ``month`` joined with their follow-up status."""
    query = (select(*[occurrences.c[c] for c in OCCURRENCE_COLUMNS if c != "run_id"],
                    findings.c.status, findings.c.first_month)
             .join_from(occurrences, findings, occurrences.c.finding_id == findings.c.finding_id)
             .where(occurrences.c.month == month).order_by(occurrences.c.finding_id))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return pl.DataFrame([dict(r) for r in rows]) if rows else pl.DataFrame()


def count_rows(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()
