"""Bulk writes: the one place many rows are inserted (COPY on PostgreSQL, batched elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection

BATCH = 5000
COPY_MIN_ROWS = 100  # below this, executemany is as quick as COPY


def batches(rows: list, size: int = BATCH) -> Iterator[list]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def bulk_insert(conn: Connection, table: Table, rows: list[dict]) -> None:
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
        driver = conn.connection.driver_connection
        assert driver is not None  # a checked-out connection always has its DBAPI connection
        with driver.cursor() as cur:
            with cur.copy(f"COPY {preparer.format_table(table)} ({names}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row([r[c] for c in columns])
        return
    for batch in batches(rows):
        conn.execute(insert(table), batch)
