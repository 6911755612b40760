"""Running audits: one month under its lock, the demo (a synthetic district generated and audited) and
the scheduler's cycle. The acting user (or the operating-system user, see ``operator_session``) is the
actor of the run's events, and each run is logged: ``findings.csv`` is the auditor's unmasked working file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditor.core.config import Profile, load_profile
from auditor.demo import generate
from auditor.followup.accesslog import log_access
from auditor.jobs import scheduler
from auditor.jobs.monthly import AuditResult, month_lock, run_audit
from auditor.jobs.snapshot import prune_snapshots, snapshot_root
from auditor.services.session import Session


def run_month(s: Session, *, month: str, data_dir: str | Path, out_dir: str | Path, profile: Profile,
              db_url: str | None = None) -> AuditResult:
    """Audit ``month`` of the drop in ``data_dir``; two runs of one month never overlap.

    ``result.notice`` says when the month's last run did not finish its outputs. Snapshots older than
    the profile's retention are then deleted, each deletion logged."""
    s.require("run", "run.audit", target=month)
    with month_lock(db_url, month, s.user.name):
        result = run_audit(month=month, data_dir=data_dir, out_dir=out_dir, profile=profile, db_url=db_url,
                           actor=s.user.name)
        prune(s, profile, month, db_url)
    log_access(s.engine, s.user, "run.audit", target=month,
               detail={"run_id": result.run_id, "out": str(result.out_dir)}, unmasked=True)
    return result


def prune(s: Session, profile: Profile, month: str, db_url: str | None) -> list[int]:
    """Delete the snapshots older than the profile's retention before ``month``, logging each deletion."""
    deleted = prune_snapshots(snapshot_root(profile, db_url), month, profile.snapshot_retention_months)
    for run_id in deleted:
        log_access(s.engine, s.user, "snapshot.delete", target=str(run_id),
                   detail={"month": month, "retention_months": profile.snapshot_retention_months})
    return deleted


@dataclass(frozen=True)
class DemoResult:
    drop: Path
    truth: Path
    audit: AuditResult


def run_demo(s: Session, *, out: Path, month: str, cases: int, db_url: str | None = None) -> DemoResult:
    """Generate the demo district's drop (with its planted truth) under ``out`` and audit it."""
    s.require("run", "run.audit", target=month)
    drop = out / "drop"
    generate(drop, month=month, n_cases=cases)
    result = run_month(s, month=month, data_dir=drop, out_dir=out / "report", profile=load_profile(None),
                       db_url=db_url)
    return DemoResult(drop, out / "truth.csv", result)


def scheduled_cycle(s: Session, profile: Profile) -> dict[str, bool]:
    """One scheduler pass (``auditor.jobs.scheduler.cycle``) as the acting user, logged."""
    s.require("run", "schedule.cycle")
    done = scheduler.cycle(profile, actor=s.user.name)
    for month in sorted(m for m, ok in done.items() if ok):
        prune(s, profile, month, profile.schedule.db)
    log_access(s.engine, s.user, "schedule.cycle", detail={"months": done}, unmasked=bool(done))
    return done
