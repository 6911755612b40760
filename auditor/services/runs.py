"""Running audits: one month under its lock, and the demo (a synthetic district generated and audited)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditor.core.config import Profile, load_profile
from auditor.demo import generate
from auditor.jobs.monthly import AuditResult, month_lock, run_audit


def run_month(*, month: str, data_dir: str | Path, out_dir: str | Path, profile: Profile,
              db_url: str | None = None, actor: str = "system") -> AuditResult:
    """Audit ``month`` of the drop in ``data_dir``; two runs of one month never overlap.

    ``result.notice`` says when the month's last run did not finish its outputs."""
    with month_lock(db_url, month, actor):
        return run_audit(month=month, data_dir=data_dir, out_dir=out_dir, profile=profile, db_url=db_url,
                         actor=actor)


@dataclass(frozen=True)
class DemoResult:
    drop: Path
    truth: Path
    audit: AuditResult


def run_demo(*, out: Path, month: str, cases: int, db_url: str | None = None, actor: str = "system") -> DemoResult:
    """Generate the demo district's drop (with its planted truth) under ``out`` and audit it."""
    drop = out / "drop"
    generate(drop, month=month, n_cases=cases)
    result = run_month(month=month, data_dir=drop, out_dir=out / "report", profile=load_profile(None),
                       db_url=db_url, actor=actor)
    return DemoResult(drop, out / "truth.csv", result)
