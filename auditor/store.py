"""The findings store (SQLAlchemy Core): runs, findings, their monthly occurrences, events.

- ``findings``: one row per finding_id (rule + subject), holding follow-up state
  that carries across months (status, assignee, due date, ...).
- ``occurrences``: one row per (finding_id, month): what the audit saw that
  month (amount, title, evidence). Re-running a month replaces its occurrences.
- ``events``: every change of a finding, with who, when and why.
- ``runs``: one row per audit run with its summary.
- ``users``: who may use the follow-up commands, with a role (see ``auditor.privacy``).
- ``access_log``: append-only, hash-chained record of every query and unmasked view.
- ``locks``: one row per held lock (e.g. ``audit:2026-10``); a unique key makes two
  runs of one month impossible.

Recurrence across months (``save_run``): a finding that fires again keeps its
id and history. Open ones stay as they are; one closed as ``rectified`` or
``confirmed`` is reopened and flagged ``recurring``; one ``dismissed`` stays
dismissed unless its stable facts changed (``facts_hash`` over the facts the rule
declares, ``auditor.facts``), then it is reopened with an event naming each
changed fact with its old and new value. Only a month later than the finding's last month
counts as a recurrence, so rerunning a month changes no state and adds no event.

A run is saved in one transaction: a failure half-way leaves the previous
state intact. Embedded SQLite is the default; PostgreSQL works the same.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Integer, MetaData, String, Table, Text,
                        bindparam, create_engine, delete, event, func, insert, inspect, select, text, update)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.engine import Engine

from auditor.errors import AuditInputError

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
    Column("facts", Text),  # canonical JSON of the stable facts (auditor.facts)
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
    migrate(engine)
    return engine


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _alembic_config(conn):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def schema_revision(engine: Engine) -> str | None:
    """The database's migration revision (None: no schema yet)."""
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (alembic), safely when several processes start at once."""
    from alembic import command
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
    current = schema_revision(engine)
    if current == head:
        return
    if current is None and "runs" in inspect(engine).get_table_names():
        raise AuditInputError(f"数据库 {engine.url.render_as_string(hide_password=True)} 由未记录版本的旧程序创建，"
                              "请备份后另建新库 (database predates migrations: back it up and start a new one)")
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("select pg_advisory_xact_lock(727001)"))  # one migrator at a time
            command.upgrade(_alembic_config(conn), "head")
    except DBAPIError:
        if schema_revision(engine) != head:  # not a lost race with another migrator: a real failure
            raise


def now() -> datetime:
    return datetime.now(timezone.utc)


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
    are inserted when new and otherwise carried over (see the module docstring
    for recurrence), with ``last_month`` advanced.
    """
    from auditor.facts import describe, facts_diff, frame_facts
    from auditor.followup import REOPEN, check_transition

    stamp = now()
    texts, hashes = frame_facts(frame)
    frame = frame.with_columns(facts_hash=pl.Series(hashes, dtype=pl.String), facts=pl.Series(texts, dtype=pl.String))
    with engine.begin() as conn:
        run_id = conn.execute(insert(runs).values(
            month=month, profile=profile, data_dir=data_dir, started_at=started_at,
            finished_at=stamp, status="ok", summary=json.dumps(summary, ensure_ascii=False, default=str),
        )).inserted_primary_key[0]
        conn.execute(delete(occurrences).where(occurrences.c.month == month))
        bulk_insert(conn, occurrences, frame.with_columns(run_id=pl.lit(run_id)).select(OCCURRENCE_COLUMNS).to_dicts())

        existing = {r.finding_id: r for r in conn.execute(
            select(findings.c.finding_id, findings.c.first_month, findings.c.last_month, findings.c.status,
                   findings.c.facts_hash, findings.c.recurring)
            .where(findings.c.finding_id.in_(select(occurrences.c.finding_id)
                                             .where(occurrences.c.month == month))))}
        new_rows, new_events, changed = [], [], {}
        for r in frame.select("finding_id", "rule", "severity", "street", "person_id", "case_id",
                              "staff_id", "facts_hash", "facts").iter_rows(named=True):
            fid = r["finding_id"]
            old = existing.get(fid)
            if old is None:
                row = {k: r[k] for k in ("finding_id", "rule", "severity", "street", "person_id", "case_id",
                                          "staff_id", "facts_hash")}
                new_rows.append({**row, "first_month": month, "last_month": month, "status": "new",
                                 "recurring": False, "updated_at": stamp})
                new_events.append(event_row(fid, stamp, actor, "created", None, "new", f"{month} 审计发现"))
            elif month > old.last_month and (old.facts_hash != r["facts_hash"] or old.status in REOPEN):
                changed[fid] = (old, r)
        bulk_insert(conn, findings, new_rows)
        later = [fid for fid, r in existing.items() if r.last_month < month]
        for batch in _batches(later):
            conn.execute(update(findings).where(findings.c.finding_id.in_(batch))
                         .values(last_month=month, updated_at=stamp))
        earlier = [fid for fid, r in existing.items() if r.first_month > month]
        for batch in _batches(earlier):
            conn.execute(update(findings).where(findings.c.finding_id.in_(batch)).values(first_month=month))

        previous = _previous_facts(conn, {fid: old.facts_hash for fid, (old, _) in changed.items()}, month)
        reopened, refreshed = [], []
        for fid, (old, r) in changed.items():
            diff = (describe(facts_diff(json.loads(previous[fid]["facts"] or "{}"), json.loads(r["facts"])))
                    if fid in previous else "") or "事实变化 facts changed"
            if old.status in REOPEN and (REOPEN[old.status] or old.facts_hash != r["facts_hash"]):
                check_transition(old.status, "new")
                recurring = REOPEN[old.status]
                note = (f"{month} 再次发现，重新打开（原状态 {old.status}）" if recurring
                        else f"{month} 事实变化，重新打开已排除的线索：{diff}")
                reopened.append({"fid": fid, "h": r["facts_hash"], "rec": recurring or old.recurring})
                new_events.append(event_row(fid, stamp, actor, "reopened", old.status, "new", note))
            elif old.status not in REOPEN:  # open, facts changed (dismissed with same facts: left alone)
                refreshed.append({"fid": fid, "h": r["facts_hash"]})
                new_events.append(event_row(fid, stamp, actor, "facts_changed", old.status, old.status,
                                            f"{month} 事实变化：{diff}"))
        by_id = findings.c.finding_id == bindparam("fid")
        if reopened:
            conn.execute(update(findings).where(by_id).values(
                status="new", recurring=bindparam("rec"), facts_hash=bindparam("h"), assignee=None,
                assigned_street=None, due_date=None, close_reason=None, updated_at=stamp), reopened)
        if refreshed:
            conn.execute(update(findings).where(by_id).values(facts_hash=bindparam("h"), updated_at=stamp), refreshed)
        bulk_insert(conn, events, new_events)
    return int(run_id)


def event_row(fid: str, at: datetime, actor: str, action: str, from_status: str | None, to_status: str | None,
           note: str, amount_fen: int | None = None) -> dict:
    return {"finding_id": fid, "at": at, "actor": actor, "action": action, "from_status": from_status,
            "to_status": to_status, "note": note, "amount_fen": amount_fen}


def _previous_facts(conn, wanted: dict[str, str | None], month: str) -> dict[str, dict]:
    """For each finding, the latest earlier occurrence with the given facts hash."""
    found: dict[str, dict] = {}
    for batch in _batches(list(wanted)):
        rows = conn.execute(select(occurrences.c.finding_id, occurrences.c.month, occurrences.c.facts,
                                   occurrences.c.facts_hash)
                            .where(occurrences.c.finding_id.in_(batch), occurrences.c.month < month)
                            .order_by(occurrences.c.month.desc())).mappings()
        for r in rows:
            if r["finding_id"] not in found and r["facts_hash"] == wanted[r["finding_id"]]:
                found[r["finding_id"]] = dict(r)
    return found


def month_findings(engine: Engine, month: str) -> pl.DataFrame:
    """The occurrences stored for ``month`` joined with their follow-up status."""
    query = (select(*[occurrences.c[c] for c in OCCURRENCE_COLUMNS if c not in ("run_id", "facts")],
                    findings.c.status, findings.c.first_month)
             .join_from(occurrences, findings, occurrences.c.finding_id == findings.c.finding_id)
             .where(occurrences.c.month == month).order_by(occurrences.c.finding_id))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return pl.DataFrame([dict(r) for r in rows]) if rows else pl.DataFrame()


def count_rows(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# ---------------------------------------------------------------- locks


class LockBusy(Exception):
    """Another process holds the lock."""


@contextmanager
def lock(engine: Engine, name: str, holder: str, stale_after: timedelta = timedelta(hours=6)):
    """Hold the database lock ``name`` for the block; raise ``LockBusy`` if someone else holds it.

    The lock is a ``locks`` row inserted in its own transaction: the primary key
    makes a second insert fail on SQLite and PostgreSQL alike. A row older than
    ``stale_after`` (a crashed holder) is taken over.
    """
    with engine.begin() as conn:
        conn.execute(delete(locks).where(locks.c.name == name, locks.c.acquired_at < now() - stale_after))
    try:
        with engine.begin() as conn:
            conn.execute(insert(locks).values(name=name, holder=holder, acquired_at=now()))
    except IntegrityError:
        with engine.connect() as conn:
            row = conn.execute(select(locks).where(locks.c.name == name)).mappings().first()
        who = f"{row['holder']} (since {row['acquired_at']})" if row else "another process"
        raise LockBusy(f"{name} 正在运行 (already running): {who}") from None
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(delete(locks).where(locks.c.name == name, locks.c.holder == holder))
