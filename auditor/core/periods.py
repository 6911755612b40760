"""Months and periods: parsing, arithmetic, and the period tests of ``rules.md``.

A month is ``YYYY-MM`` text. "Covers M" means a period shares at least one day
with M; "the whole of M" means it spans M's first to last day. Period ends are
inclusive; an empty end is open. The bounds may be dates or polars expressions
(per-row months).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl

from auditor.core.errors import AuditInputError

Bound = date | pl.Expr


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of a ``YYYY-MM`` month."""
    year, mon = int(month[:4]), int(month[5:7])
    return date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])


def month_add(month: str, n: int) -> str:
    """``month`` plus ``n`` months (``n`` may be negative)."""
    y, m = int(month[:4]), int(month[5:7]) - 1 + n
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def month_window(month: str, n: int) -> list[str]:
    """The ``n`` months ending with ``month``, oldest first."""
    return [month_add(month, k) for k in range(1 - n, 1)]


def parse_month(value: str, option: str = "--month") -> str:
    """A month as the contract writes it (``2026-10``, ``2026/10``, ``202610``, ``2026年10月``) -> ``YYYY-MM``.

    A one-digit month is read only after a separator (``2026-1``, ``2026年1月``); ``20261`` is refused
    (it may be a cut-off ``202610``)."""
    m = re.fullmatch(r"(\d{4})(?:[-/年](\d{1,2})|(\d{2}))月?", value.strip())
    if not m or not 1 <= int(m.group(2) or m.group(3)) <= 12:
        raise AuditInputError(f"{option} {value!r} 不是有效月份，应为 YYYY-MM (expected YYYY-MM)")
    return f"{m.group(1)}-{int(m.group(2) or m.group(3)):02d}"


def quarter_months(quarter: str) -> list[str]:
    """``2026Q3`` (also ``2026-Q3``, ``2026q3``) -> ["2026-07", "2026-08", "2026-09"]."""
    m = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", quarter.strip())
    if not m:
        raise AuditInputError(f"--quarter {quarter!r} 不是有效季度，应为 YYYYQn，如 2026Q3 (expected e.g. 2026Q3)")
    year, q = int(m.group(1)), int(m.group(2))
    return [f"{year}-{3 * (q - 1) + k:02d}" for k in (1, 2, 3)]


def quarter_of(month: str) -> str:
    """``2026-09`` -> ``2026Q3``."""
    return f"{month[:4]}Q{(int(month[5:7]) - 1) // 3 + 1}"


def month_index(e: pl.Expr) -> pl.Expr:
    """``YYYY-MM`` -> year*12 + month, for month differences (text or categorical months)."""
    e = e.cast(pl.String)
    return e.str.slice(0, 4).cast(pl.Int32) * 12 + e.str.slice(5, 2).cast(pl.Int32)


def month_first(e: pl.Expr) -> pl.Expr:
    """``YYYY-MM`` -> the month's first day (Date); text or categorical months."""
    return pl.concat_str(e.cast(pl.String), pl.lit("-01")).str.to_date("%Y-%m-%d")


def covers(start: str, end: str, first: Bound, last: Bound) -> pl.Expr:
    """The period [start, end] shares at least one day with [first, last]; empty ends are open."""
    return ((pl.col(start).is_null() | (pl.col(start) <= last))
            & (pl.col(end).is_null() | (pl.col(end) >= first)))


def covers_whole(start: str, end: str, first: Bound, last: Bound) -> pl.Expr:
    """The period [start, end] spans the whole of [first, last] (an empty end is open)."""
    return (pl.col(start) <= first) & (pl.col(end).is_null() | (pl.col(end) >= last))


def restriction_covers(first: Bound, last: Bound) -> pl.Expr:
    """A dishonesty record restricts its person in [first, last] (一处失信、他处受限): recorded on or
    before the last day, restricted_until empty or on or after the first day."""
    return (pl.col("recorded_on") <= last) & (pl.col("restricted_until").is_null()
                                              | (pl.col("restricted_until") >= first))


def imprisoned_whole(first: Bound, last: Bound) -> pl.Expr:
    """An ``imprisonment`` penalty covering the whole of [first, last] (E04, screening)."""
    return (pl.col("kind") == "imprisonment") & covers_whole("start_date", "end_date", first, last)


BEIJING = timezone(timedelta(hours=8), "北京时间")  # China keeps no daylight saving time


def beijing_text(at: datetime) -> str:
    """A time as people read it: ``YYYY-MM-DD HH:MM`` in Beijing time (naive times are UTC, as SQLite returns)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
