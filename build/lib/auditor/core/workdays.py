"""PRC working days (法定工作日) from the maintained ``chinesecalendar`` package.

Statutory holidays are off and adjusted weekend workdays (调休上班) are on.
The package only knows the years the State Council has published; a date
outside them raises ``CalendarRangeError`` instead of guessing from weekdays.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import polars as pl


class CalendarRangeError(ValueError):
    """A date outside the years the official calendar knows."""


def known_years() -> tuple[int, int]:
    """First and last year the installed calendar covers."""
    years = {d.year for d in chinese_calendar.constants.holidays} | {
        d.year for d in chinese_calendar.constants.workdays}
    return min(years), max(years)


def _check(d: date) -> None:
    lo, hi = known_years()
    if not lo <= d.year <= hi:
        raise CalendarRangeError(
            f"日期 {d.isoformat()} 超出法定节假日日历范围 {lo}–{hi} 年 "
            f"(chinesecalendar knows {lo}-{hi} only; update the package)")


def workdays_between(start: date, end: date) -> list[date]:
    """Working days d with start <= d <= end, in order."""
    _check(start)
    _check(end)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)
            if chinese_calendar.is_workday(start + timedelta(days=i))]


def nth_workday_after(day: date, n: int) -> date:
    """The n-th working day after ``day`` (``day`` itself not counted)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    d, seen = day, 0
    _check(day)
    while seen < n:
        d += timedelta(days=1)
        _check(d)
        seen += chinese_calendar.is_workday(d)
    return d


def deadlines(received: pl.Series, n: pl.Series, horizon: date) -> pl.Series:
    """Vectorised ``nth_workday_after(received, n)``, null when it falls after ``horizon``.

    Only the days from the earliest ``received`` to ``horizon`` are looked up
    (so a deadline that would need next year's unpublished calendar but lies
    after ``horizon`` anyway is null, not an error); any of those days outside
    the known years raises ``CalendarRangeError``.
    """
    nulls = pl.Series(received.name, [None] * len(received), dtype=pl.Date)
    valid = received.drop_nulls()
    if valid.is_empty():
        return nulls
    earliest = valid.min()
    assert isinstance(earliest, date)  # a non-empty date series has a date minimum
    days = pl.Series(workdays_between(min(earliest, horizon), horizon), dtype=pl.Date)
    if days.is_empty():
        return nulls
    # position of the first working day strictly after received, plus n-1
    idx = days.search_sorted(received.cast(pl.Date).fill_null(horizon), side="right").cast(pl.Int64) + n - 1
    ok = received.is_not_null() & (idx < len(days))
    return days.gather(idx.clip(0, len(days) - 1)).zip_with(ok, nulls).alias(received.name)
