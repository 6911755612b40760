"""Opening a store: engines, migrations to the newest schema, small queries.

Embedded SQLite is the default (WAL mode); PostgreSQL works the same. A SQLite store and its
``-wal``/``-shm`` files are readable by their owner only (0600, folder 0700 when created).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from sqlalchemy import Table, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from auditor.core.errors import AuditInputError
from auditor.core.private import private_dir
from auditor.store.tables import OCCURRENCE_COLUMNS, findings, occurrences

DEFAULT_DB = "sqlite:///out/auditor.db"


def connect(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: embedded SQLite under ``out/``) with the schema created."""
    url = url or DEFAULT_DB
    db_file = None
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db_file = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        private_dir(db_file.parent)
        os.close(os.open(db_file, os.O_CREAT | os.O_WRONLY, 0o600))  # owner-only before SQLite opens it
        os.chmod(db_file, 0o600)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    migrate(engine)
    if db_file is not None:  # the WAL and shared-memory files hold the same data
        for extra in (db_file.with_name(db_file.name + "-wal"), db_file.with_name(db_file.name + "-shm")):
            if extra.exists():
                os.chmod(extra, 0o600)
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
