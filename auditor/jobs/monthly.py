"""One monthly audit, end to end: load -> check -> store -> outputs."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from auditor import store
from auditor.core.config import Profile
from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_frame
from auditor.core.money import fen_to_yuan
from auditor.core.private import private_dir, write_private_text
from auditor.engine.context import AuditContext
from auditor.engine.frames import instructions, paid_rows, reconciliation
from auditor.engine.runner import load_catalogue, run_rules
from auditor.followup.recurrence import save_run
from auditor.followup.workflow import issue_rows
from auditor.ingest.loader import load_drop
from auditor.ingest.schema import TABLES
from auditor.jobs.progress import Stages
from auditor.jobs.sample import draw_sample
from auditor.reporting.data import build_report_data
from auditor.reporting.drawings import relations_section
from auditor.reporting.files import findings_csv_frame, write_csv, write_json
from auditor.reporting.issues_xlsx import fill_programs, write_issues_xlsx
from auditor.reporting.summary import FindingCounts, MoneyTotals, RunSummary

RECON_RULES = ("R01", "R02", "R03", "R04", "R05")
OUTPUT_FILES = ("findings.csv", "report.html", "issues.xlsx", "quarantine.csv", "run.json", "sample.csv")


@dataclass(frozen=True)
class AuditResult:
    run_id: int
    out_dir: Path
    findings: pl.DataFrame
    run: RunSummary

    @property
    def summary(self) -> dict[str, Any]:
        """The run summary as written to ``run.json``."""
        return self.run.to_dict()


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def month_lock(db_url: str | None, month: str, stale_hours: float = 6) -> Iterator[None]:
    """Hold ``audit:<month>``; a second holder gets ``AuditInputError`` naming who runs it."""
    engine = store.connect(db_url)
    try:
        with store.lock(engine, f"audit:{month}", holder_id(), timedelta(hours=stale_hours)):
            yield
    except store.LockBusy as exc:
        raise AuditInputError(f"审计 {month} 已在运行，不能重复运行 ({exc})") from None
    finally:
        engine.dispose()


def money_totals(ctx: AuditContext, frame: pl.DataFrame) -> MoneyTotals:
    """Instructed, paid, matched and at-risk totals of M (yuan text, exact).

    *matched*: paid money on keys where the paid total equals the instructed
    total and no R01–R05 finding exists; *at risk*: per (payee, program) the
    largest amount of its R01–R05 findings, summed (not double-counted).
    """
    instructed = ctx.shared(instructions)["amount"].sum()
    paid = ctx.shared(paid_rows)["amount"].sum()
    recon = frame.filter(pl.col("rule").is_in(RECON_RULES))
    flagged = recon.group_by("person_id", "program").agg(fen=pl.col("amount_fen").fill_null(0).max())
    keys = (ctx.shared(reconciliation).select("person_id", "program", "paid_fen", "instructed_fen", "n_paid")
            .join(flagged, on=["person_id", "program"], how="anti"))
    matched = keys.filter((pl.col("paid_fen") == pl.col("instructed_fen")) & (pl.col("n_paid") > 0))["paid_fen"].sum()
    return MoneyTotals(instructed=fen_to_yuan(instructed or 0), paid=fen_to_yuan(paid or 0),
                       matched=fen_to_yuan(matched or 0), at_risk=fen_to_yuan(flagged["fen"].sum() or 0))


def run_audit(*, month: str, data_dir: str | Path, out_dir: str | Path, profile: Profile,
              db_url: str | None = None, codes: list[str] | None = None, actor: str = "system") -> AuditResult:
    """Run the monthly audit and write every output file; return what was found."""
    started = datetime.now().astimezone()
    out = Path(out_dir)
    stages = Stages()
    with stages("load", total=len(TABLES)):
        drop = load_drop(data_dir, profile, on_table=stages.step)
    ctx = AuditContext(month=month, profile=profile, drop=drop)
    with stages("checks", total=len(load_catalogue())):
        frame, statuses = run_rules(ctx, codes, on_rule=stages.tick)
        sample = draw_sample(ctx)
    quarantine_reasons = (drop.quarantine.group_by("table", "column", "reason").agg(count=pl.len())
                          .sort("table", "column", "reason").to_dicts())
    counts = FindingCounts(
        total=frame.height,
        by_rule=dict(sorted(frame["rule"].value_counts().iter_rows())) if frame.height else {},
        by_severity=dict(sorted(frame["severity"].value_counts().iter_rows())) if frame.height else {})
    money = money_totals(ctx, frame)
    with stages("store"):
        engine = store.connect(db_url)
        summary = RunSummary(
            month=month, profile=profile.name, district=profile.district, data_dir=str(data_dir),
            started_at=started.isoformat(timespec="seconds"),
            finished_at=datetime.now().astimezone().isoformat(timespec="seconds"),
            tables=dict(drop.stats), quarantine_reasons=tuple(quarantine_reasons), checks=tuple(statuses),
            money=money, findings=counts, sample_size=sample.height)
        run_id = save_run(engine, month=month, profile=profile.name, data_dir=str(data_dir),
                          started_at=started, frame=frame, summary=summary.to_dict(), actor=actor)
        issues = fill_programs(issue_rows(engine, frame, month), drop.tables["cases"])
        engine.dispose()
    with stages("outputs"):
        private_dir(out)
        write_csv(findings_csv_frame(frame), out / "findings.csv")
        write_csv(drop.quarantine, out / "quarantine.csv")
        write_csv(sample, out / "sample.csv")
        write_issues_xlsx(issues, out / "issues.xlsx", month=month, district=profile.district, mask=mask_frame)
        masked = mask_frame(frame)
        section = relations_section(masked, {c: cls.name for c, cls in load_catalogue().items()})
        data = build_report_data(masked, summary, [section] if section else [])
        write_private_text(out / "report.html", data.render())
    summary = summary.finished(run_id=run_id, durations=stages.durations
                               | {"total": round(time.perf_counter() - stages.t0, 3)})
    write_json(summary.to_dict(), out / "run.json")
    return AuditResult(run_id, out, frame, summary)
