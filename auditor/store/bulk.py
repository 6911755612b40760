"""Bulk writes: the one place many rows are inserted (COPY on PostgreSQL, batched elsewhere)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import polars as pl
from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection

BATCH = 5000
COPY_MIN_ROWS = 100  # below this, executemany is as quick as COPY


def batches(rows: list, size: int = BATCH) -> Iterator[list]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def bulk_insert(conn: Connection, table: Table, rows: list[dict] | pl.DataFrame) -> None:
    """Insert many rows (dicts, or a frame of table columns); the one place bulk writes happen.

    PostgreSQL: one ``COPY ... FROM STDIN`` through psycopg (rows that all
    carry the same columns); otherwise batched executemany. Either way inside
    the caller's transaction. A frame must give every column that has a default.
    """
    if isinstance(rows, pl.DataFrame):
        _insert_frame(conn, table, rows)
        return
    if not rows:
        return
    columns = list(rows[0])
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg" and len(rows) >= COPY_MIN_ROWS \
            and all(r.keys() == rows[0].keys() for r in rows):
        _copy(conn, table, columns, ([r[c] for c in columns] for r in rows))
        return
    for batch in batches(rows):
        conn.execute(insert(table), batch)


def _insert_frame(conn: Connection, table: Table, frame: pl.DataFrame) -> None:
    """``bulk_insert`` of a frame: COPY, or on SQLite the frame's rows as tuples straight to the driver
    (through the columns' bind processors, e.g. date text) without SQLAlchemy's work per row."""
    dialect = conn.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg" and frame.height >= COPY_MIN_ROWS:
        _copy(conn, table, frame.columns, frame.iter_rows())
    elif dialect.name == "sqlite" and frame.height:
        compiled = insert(table).compile(dialect=dialect, column_keys=frame.columns)
        order = list(compiled.positiontup or ())
        columns = []
        for name in order:
            values = frame[name].to_list()
            process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:  # once per distinct value (a run's time stamp is one value)
                done = {v: process(v) for v in set(values)}
                values = [done[v] for v in values]
            columns.append(values)
        rows = list(zip(*columns, strict=True))
        for batch in batches(rows):
            conn.exec_driver_sql(compiled.string, batch)
    elif frame.height:
        for batch in batches(frame.to_dicts()):
            conn.execute(insert(table), batch)


def _copy(conn: Connection, table: Table, columns: list[str], rows: Iterable[Sequence]) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows`` (values in the order of ``columns``), psycopg."""
    preparer = conn.dialect.identifier_preparer
    names = ", ".join(preparer.quote(c) for c in columns)
    driver = conn.connection.driver_connection
    assert driver is not None  # a checked-out connection always has its DBAPI connection
    with driver.cursor() as cur:
        with cur.copy(f"COPY {preparer.format_table(table)} ({names}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
