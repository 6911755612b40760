"""Compact in-memory types for the loaded tables' few-valued text columns.

A polars ``String`` cell costs a 16-byte view (plus its bytes when longer than 12), whatever the
value; a ``Categorical`` cell costs 4 bytes, the text being kept once per distinct value in polars'
global category pool. Code columns (program, statuses, relations, review cycles), month columns and
the street, community and handling-staff columns hold a few hundred distinct values over millions of
rows, so holding them as categoricals shrinks the big tables by about a third (city: payments and
ledger, 16 MB per such column per million rows, to 4 MB).

A categorical compares with text (``==``, ``is_in``, ``<=``), sorts in text order, joins with another
categorical column and converts to text in JSON and CSV like the text it holds, so rules read it as
they read text; every table's column of one of these names or kinds is converted, so joins across
tables meet the same type. Ids, accounts, names and free text stay ``String``: their distinct values
grow with the drop, and the category pool is never freed.
"""

from __future__ import annotations

import polars as pl

from auditor.ingest.schema import TABLES

CODE_KINDS = frozenset({"program", "case_status", "ledger_status", "review_cycle", "month"})
FEW_VALUED = frozenset({"street", "community"})
TEXT_READ = frozenset({"phase_out_start"})  # read with text functions; rare values: kept as text


def compact_columns(table: str) -> tuple[str, ...]:
    """The columns of ``table`` held as categoricals."""
    return tuple(c.name for c in TABLES[table].columns
                 if (c.kind in CODE_KINDS or c.name in FEW_VALUED) and c.name not in TEXT_READ)


def compact(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (a loaded table) with its few-valued text columns as categoricals."""
    names = [c for c in compact_columns(table) if frame.schema.get(c) == pl.String]
    return frame.with_columns(pl.col(names).cast(pl.Categorical)) if names else frame


def as_text(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` with its categorical columns back as text (files keep the contract's types)."""
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
