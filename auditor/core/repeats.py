"""Rows whose key repeats, told by sorting the keys' 64-bit hashes.

``is_duplicated`` hashes every key into a table: for tens of millions of text keys (a province's or a
nation's paid rows, accounts, ledger ids) that takes several times the keys' memory and seconds.
Sorting their 64-bit hashes holds one copy of 8 bytes a row and is several times quicker; only the
rows whose hash repeats (usually none or few) are then compared by their keys.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def key_hashes(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """The 64-bit hash of each row's key ``columns`` (equal keys, equal hashes)."""
    if len(columns) == 1:
        return frame.get_column(columns[0]).hash()
    return frame.select(pl.struct(list(columns)).hash()).to_series()


def repeated_hashes(hashes: pl.Series) -> pl.Series | None:
    """The hash values that occur more than once, or None (the usual case)."""
    ordered = hashes.sort()
    repeated = ordered.filter(ordered == ordered.shift(1))
    return repeated.unique() if repeated.len() else None


def may_repeat(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """Rows whose key may occur more than once: every repeated key, and (rarely) a key sharing its hash
    with another. For a choice where treating a single key as repeated changes nothing but speed."""
    hashes = key_hashes(frame, columns)
    repeated = repeated_hashes(hashes)
    if repeated is None:
        return pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
    return hashes.is_in(repeated.implode())


def exactly(where: pl.Series, keys: pl.DataFrame) -> pl.Series | None:
    """Of the rows at ``where`` (``keys``: their key columns, in order), those whose key repeats among
    them, as a mask over every row; None when none does."""
    dup = keys.is_duplicated()
    if not dup.any():
        return None
    positions = where.arg_true().filter(dup)
    return pl.repeat(False, where.len(), dtype=pl.Boolean, eager=True).scatter(positions, True)


def duplicated(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """``pl.struct(columns).is_duplicated()`` over ``frame``, exactly (nulls equal to nulls)."""
    where = may_repeat(frame, columns)
    found = exactly(where, frame.filter(where).select(columns)) if where.any() else None
    return found if found is not None else pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
