"""Database locks: two runs of one month never overlap."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from auditor.store.tables import locks, now


class LockBusy(Exception):
    """Another process holds the lock."""


@contextmanager
def lock(engine: Engine, name: str, holder: str, stale_after: timedelta = timedelta(hours=6)) -> Iterator[None]:
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
