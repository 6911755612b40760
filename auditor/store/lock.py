"""Locks that die with their holder: two runs of one month never overlap, and a killed run blocks nothing.

- PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) on a connection held for the block,
  keyed by a hash of the schema and the lock name; the server drops it when the connection closes,
  so also when the holder is killed. A waiter gives up after ``LOCK_WAIT_SECONDS``.
- SQLite: an OS file lock (``flock``) on a file in ``<database>.locks/`` beside the database; the
  kernel releases it when the holder's process ends, however it ends.

The ``locks`` table only says who holds a lock (host, pid, user, since when) for the waiter's message;
a row left by a killed holder is overwritten by the next one and never blocks anyone.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import os
import re
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from auditor.core.private import private_dir
from auditor.store.tables import locks, now

LOCK_WAIT_SECONDS = 3  # PostgreSQL: how long a waiter waits for a holder that is going away
BEIJING = ZoneInfo("Asia/Shanghai")


class LockBusy(Exception):
    """Another process holds the lock."""


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None: in memory)."""
    database = engine.url.database
    return Path(database) if database and database != ":memory:" else None


@contextmanager
def file_lock(path: Path, *, wait: bool) -> Iterator[bool]:
    """Hold ``flock`` on ``path`` for the block; yields False (not held) when busy and ``wait`` is False."""
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def lock_file(engine: Engine, name: str) -> Path:
    """The lock file of ``name`` beside a SQLite database (a per-process temp folder for one in memory)."""
    db = sqlite_path(engine)
    folder = (db.parent / f"{db.name}.locks" if db
              else Path(tempfile.gettempdir()) / f"auditor-memory-locks-{os.getpid()}")
    return folder / (re.sub(r"[^\w.-]", "_", name) + ".lock")


def _pg_key(conn: Connection, name: str) -> int:
    schema = conn.execute(text("select current_schema()")).scalar_one()
    digest = hashlib.blake2b(f"{schema}\0{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _pg_lock(engine: Engine, name: str) -> Iterator[bool]:
    conn = engine.connect()
    try:
        key = _pg_key(conn, name)
        conn.execute(text(f"set lock_timeout = '{LOCK_WAIT_SECONDS}s'"))
        try:
            conn.execute(text("select pg_advisory_lock(:k)"), {"k": key})
            got = True
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            conn.rollback()
            got = False
        conn.execute(text("reset lock_timeout"))  # the pooled connection keeps no short timeout
        conn.commit()
        if not got:
            yield False
            return
        try:
            yield True
        finally:
            conn.execute(text("select pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
    except BaseException:
        conn.invalidate()  # never hand a connection that may hold the lock back to the pool
        raise
    finally:
        conn.close()


def _who(engine: Engine, name: str) -> str:
    with engine.connect() as conn:
        row = conn.execute(select(locks).where(locks.c.name == name)).mappings().first()
    if not row:
        return "另一进程 (another process)"
    since = row["acquired_at"]
    since = (since if since.tzinfo else since.replace(tzinfo=now().tzinfo)).astimezone(BEIJING)
    return f"{row['holder']}，自 {since:%Y-%m-%d %H:%M:%S} 北京时间 (since, Beijing time)"


@contextmanager
def lock(engine: Engine, name: str, holder: str) -> Iterator[None]:
    """Hold the lock ``name`` for the block; raise ``LockBusy`` (saying who holds it) if another holds it.

    ``holder`` says who we are (e.g. host, pid and user); it is shown to whoever waits.
    """
    held = (_pg_lock(engine, name) if engine.dialect.name == "postgresql"
            else file_lock(lock_file(engine, name), wait=False))
    with held as got:
        if not got:
            raise LockBusy(f"{name} 正在运行 (already running): {_who(engine, name)}")
        with engine.begin() as conn:
            conn.execute(delete(locks).where(locks.c.name == name))
            conn.execute(insert(locks).values(name=name, holder=holder[:128], acquired_at=now()))
        try:
            yield
        finally:
            with engine.begin() as conn:
                conn.execute(delete(locks).where(locks.c.name == name, locks.c.holder == holder[:128]))


def holder_text(user: str | None = None) -> str:
    """Who we are, for a lock's waiters: host, pid and user."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "?"
    who = f"{login}/{user}" if user and user != login else login
    return f"主机 {socket.gethostname()} 进程 {os.getpid()} 用户 {who}"

