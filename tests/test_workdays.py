"""PRC working days: statutory holidays off, adjusted weekend workdays on, no guessing."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from auditor.core.workdays import CalendarRangeError, deadlines, known_years, nth_workday_after, workdays_between


def test_2026_national_day_and_mid_autumn():
    days = workdays_between(date(2026, 9, 19), date(2026, 10, 12))
    assert date(2026, 9, 20) in days          # Sunday worked (调休)
    assert date(2026, 10, 10) in days         # Saturday worked (调休)
    assert date(2026, 9, 25) not in days      # 中秋节
    assert not any(date(2026, 10, d) in days for d in range(1, 8))  # 国庆 10-01..10-07
    assert date(2026, 10, 11) not in days     # ordinary Sunday


def test_nth_workday_after_skips_the_day_of_receipt():
    assert nth_workday_after(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert nth_workday_after(date(2026, 10, 8), 1) == date(2026, 10, 9)
    assert nth_workday_after(date(2026, 9, 10), 20) == date(2026, 10, 14)
    assert nth_workday_after(date(2026, 9, 19), 1) == date(2026, 9, 20)


def test_unknown_year_is_an_error_not_a_guess():
    lo, hi = known_years()
    assert hi >= 2026 and lo <= 2010
    with pytest.raises(CalendarRangeError):
        nth_workday_after(date(hi, 12, 20), 20)
    with pytest.raises(CalendarRangeError):
        workdays_between(date(hi + 1, 1, 1), date(hi + 1, 1, 31))


def test_vectorised_deadlines_match_the_scalar_ones_and_stop_at_the_horizon():
    received = pl.Series("r", [date(2026, 9, 10), date(2026, 9, 30), None, date(2026, 8, 3)], dtype=pl.Date)
    n = pl.Series("n", [20, 20, 20, 45])
    got = deadlines(received, n, date(2026, 10, 31)).to_list()
    assert got == [date(2026, 10, 14), None, None, nth_workday_after(date(2026, 8, 3), 45)]
    # a horizon inside the known years needs no later calendar
    assert deadlines(pl.Series([date(2026, 12, 20)]), pl.Series([20]), date(2026, 12, 31)).to_list() == [None]
