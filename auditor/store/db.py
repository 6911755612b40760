"""Opening a store: engines, migrations to the newest schema, small queries.

Embedded SQLite is the default (WAL mode); PostgreSQL works the same. A SQLite store and its
``-wal``/``-shm`` files are readable by their owner only (0600, folder 0700 when created).
"""

from __future__ import annotations

import os
import re
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import Table, create_engine, event, func, inspect, make_url, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from auditor.core.errors import AuditInputError
from auditor.core.private import private_dir
from auditor.store.lock import file_lock, sqlite_path
from auditor.store.tables import OCCURRENCE_COLUMNS, findings, occurrences

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_DB = "sqlite:///out/auditor.db"


def safe_url(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def connect(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: embedded SQLite under ``out/``) with the schema created.

    A URL that cannot be used (unknown scheme, server unreachable, database missing, SQLite file not
    writable) raises ``AuditInputError`` naming it, password hidden.
    """
    url = url or DEFAULT_DB
    shown = safe_url(url)
    db_file = None
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db_file = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        try:
            private_dir(db_file.parent)
            os.close(os.open(db_file, os.O_CREAT | os.O_WRONLY, 0o600))  # owner-only before SQLite opens it
            os.chmod(db_file, 0o600)
        except OSError as exc:
            raise AuditInputError(f"--db {shown} 无法创建数据库文件或目录 (cannot create the database file): "
                                  f"{exc.strerror or exc}") from None
    try:
        engine = create_engine(url)
    except ArgumentError as exc:  # also NoSuchModuleError: an unknown scheme or driver
        raise AuditInputError(f"--db {shown} 不是可用的数据库地址 (unusable database URL): "
                              f"{str(exc).splitlines()[0]}") from None
    except ImportError as exc:
        raise AuditInputError(f"--db {shown} 所需的数据库驱动未安装 (driver missing): {exc}") from None
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")  # first: switching to WAL waits for other connections too
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
    try:
        migrate(engine)
    except (OperationalError, InterfaceError) as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        raise AuditInputError(f"--db {shown} 无法连接或写入数据库 (cannot open database): {reason}") from None
    except OSError as exc:  # the lock folder beside a SQLite file
        engine.dispose()
        raise AuditInputError(f"--db {shown} 无法写入数据库所在目录 (folder not writable): "
                              f"{exc.strerror or exc}") from None
    if db_file is not None:  # the WAL and shared-memory files hold the same data
        for extra in (db_file.with_name(db_file.name + "-wal"), db_file.with_name(db_file.name + "-shm")):
            if extra.exists():
                os.chmod(extra, 0o600)
    return engine


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _alembic_config(conn: Connection) -> Config:
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
    """Bring the schema to the newest migration (alembic), safely when several processes start at once.

    SQLite: the first connection (which switches the file to WAL) and the upgrade happen under a lock
    file beside the database, one process at a time; the next re-checks what the first did.
    PostgreSQL: the upgrade holds a transaction-level advisory lock.
    """
    db = sqlite_path(engine) if engine.dialect.name == "sqlite" else None
    with file_lock(db.parent / f"{db.name}.locks" / "migrate.lock", wait=True) if db else nullcontext():
        _migrate(engine)


def _migrate(engine: Engine) -> None:
    from alembic import command
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
    if schema_revision(engine) == head:
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("select pg_advisory_xact_lock(727001)"))  # one migrator at a time
        current = MigrationContext.configure(conn).get_current_revision()  # again, now that we migrate alone
        if current == head:
            return
        if current is None and "runs" in inspect(conn).get_table_names():
            raise AuditInputError(f"数据库 {engine.url.render_as_string(hide_password=True)} 由未记录版本的旧程序创建，"
                                  "请备份后另建新库 (database predates migrations: back it up and start a new one)")
        command.upgrade(_alembic_config(conn), "head")


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
