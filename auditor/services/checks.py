"""Checks outside the monthly run: pre-payment screening and the quarterly information-sharing check.

The hold list is unmasked (the payment office stops payments with it) and produced for auditors only;
the quarterly page is masked unless an unmasked view is asked for, its CSV is the auditor's working file.
Each is logged when produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditor.core.config import Profile
from auditor.core.periods import quarter_months, quarter_of
from auditor.followup.accesslog import log_access
from auditor.jobs.quarterly import QuarterlyResult, run_quarterly
from auditor.jobs.screen import ScreenResult, screen, write_holds
from auditor.services.session import Session


@dataclass(frozen=True)
class Screening:
    result: ScreenResult
    files: list[Path]


def screen_payments(s: Session, *, payments: str | Path, data_dir: str | Path, profile: Profile, month: str | None,
                    out: Path) -> Screening:
    """Screen a payment-instruction file before it goes to the bank; write the hold list (CSV + xlsx)."""
    s.require("screen", "screen.holds", target=str(payments))
    result = screen(payments, data_dir, profile, month)
    files = write_holds(result, out)
    log_access(s.engine, s.user, "screen.holds", target=str(payments),
               detail={"held": result.holds.height, "files": [str(f) for f in files]}, unmasked=True)
    return Screening(result, files)


def quarterly_check(s: Session, *, quarter: str, data_dir: str | Path, profile: Profile, out_dir: Path | None,
                    unmasked: bool = False) -> QuarterlyResult:
    """E01–E05 over the quarter's three months (default output ``out/<quarter>/``)."""
    s.require("run", "quarterly.run", target=quarter)
    unmasked = s.unmasked(unmasked, "quarterly.run", target=quarter)
    first = quarter_months(quarter)[0]  # validate before loading anything
    result = run_quarterly(quarter=quarter, data_dir=data_dir, out_dir=out_dir or Path("out") / quarter_of(first),
                           profile=profile, masked=not unmasked)
    log_access(s.engine, s.user, "quarterly.run", target=result.data.quarter,
               detail={"clues": result.data.total_clues, "out": str(result.out_dir)}, unmasked=True)
    return result
