"""Checks outside the monthly run: pre-payment screening and the quarterly information-sharing check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditor.core.config import Profile
from auditor.core.periods import quarter_months, quarter_of
from auditor.jobs.quarterly import QuarterlyResult, run_quarterly
from auditor.jobs.screen import ScreenResult, screen, write_holds


@dataclass(frozen=True)
class Screening:
    result: ScreenResult
    files: list[Path]


def screen_payments(*, payments: str | Path, data_dir: str | Path, profile: Profile, month: str | None,
                    out: Path) -> Screening:
    """Screen a payment-instruction file before it goes to the bank; write the hold list (CSV + xlsx)."""
    result = screen(payments, data_dir, profile, month)
    return Screening(result, write_holds(result, out))


def quarterly_check(*, quarter: str, data_dir: str | Path, profile: Profile, out_dir: Path | None) -> QuarterlyResult:
    """E01–E05 over the quarter's three months (default output ``out/<quarter>/``)."""
    first = quarter_months(quarter)[0]  # validate before loading anything
    return run_quarterly(quarter=quarter, data_dir=data_dir, out_dir=out_dir or Path("out") / quarter_of(first),
                         profile=profile)
