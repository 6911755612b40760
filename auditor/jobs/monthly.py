"""One monthly audit, end to end: load -> check -> store -> outputs."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.engine import Engine

from auditor import store
from auditor.core.config import Profile
from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_frame
from auditor.core.money import fen_to_yuan
from auditor.core.private import private_dir, write_private_text
from auditor.engine.context import AuditContext
from auditor.engine.frames import key_totals, money_sums, paid_of_keys
from auditor.engine.runner import load_catalogue, rules_in, run_rules
from auditor.followup.recurrence import last_run, mark_run, save_run
from auditor.followup.workflow import issue_rows
from auditor.ingest.loader import Drop, load_drop
from auditor.ingest.schema import TABLES
from auditor.ingest.spill import SpilledTables
from auditor.jobs.faults import checkpoint
from auditor.jobs.progress import Stages
from auditor.jobs.publish import check_out_dir, staged
from auditor.jobs.sample import draw_sample
from auditor.jobs.snapshot import (
    could_match,
    input_files,
    load_snapshot,
    matching_snapshot,
    snapshot_root,
    write_snapshot,
)
from auditor.reporting.data import build_report_data
from auditor.reporting.drawings import relations_section
from auditor.reporting.files import findings_csv_frame, write_csv, write_json
from auditor.reporting.issues_xlsx import fill_programs, write_issues_xlsx
from auditor.reporting.summary import FindingCounts, MoneyTotals, RunSummary

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")
MONTH_TABLES = ("payments", "ledger")  # a month's audit needs rows of the month in both
OUTPUTS_PENDING, OUTPUTS_FAILED = "outputs_pending", "outputs_failed"
OUTPUT_FILES = ("findings.csv", "report.html", "issues.xlsx", "quarantine.csv", "run.json", "sample.csv")


@dataclass(frozen=True)
class AuditResult:
    run_id: int
    out_dir: Path
    findings: pl.DataFrame
    run: RunSummary
    notice: str | None = None  # e.g. the last run of this month did not finish its outputs

    @property
    def summary(self) -> dict[str, Any]:
        """The run summary as written to ``run.json``."""
        return self.run.to_dict()


class MonthBusy(AuditInputError):
    """Another run of the month holds its lock (the message names it)."""


@contextmanager
def month_lock(db_url: str | None, month: str, user: str | None = None) -> Iterator[None]:
    """Hold ``audit:<month>`` (it dies with this process); a second holder gets ``MonthBusy`` naming
    who runs it (host, pid, user, since when)."""
    engine = store.connect(db_url)
    try:
        with store.lock(engine, f"audit:{month}", store.holder_text(user)):
            yield
    except store.LockBusy as exc:
        raise MonthBusy(f"审计 {month} 已在运行，不能重复运行 ({exc})") from None
    finally:
        engine.dispose()


def require_month_rows(drop: Drop, month: str) -> None:
    """Refuse a drop whose payments or ledger hold no row of ``month`` (it would audit to zero money)."""
    for name in MONTH_TABLES:
        tables = drop.tables  # a streamed table: only its month column is read from disk
        rows = tables.scan(name) if isinstance(tables, SpilledTables) else tables[name].lazy()
        months = rows.select(pl.col("month").drop_nulls().unique().sort()).collect().to_series()
        if month not in months:
            held = "、".join(months.to_list()) or "无 (none)"
            raise AuditInputError(f"数据包中 {name} 没有 {month} 的数据，已有月份：{held} "
                                  f"({name} holds no rows of {month})")


def previous_failure(engine: Engine, month: str) -> str | None:
    """A line saying the last stored run of ``month`` did not finish its outputs, if so."""
    last = last_run(engine, month)
    if not last or last["status"] not in (OUTPUTS_FAILED, OUTPUTS_PENDING):
        return None
    at = last["finished_at"]
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(BEIJING)
    error = json.loads(last["summary"] or "{}").get("outputs_error") or "进程中断 (process stopped)"
    return (f"注意：{month} 上次运行（运行号 {last['run_id']}，{at:%Y-%m-%d %H:%M} 北京时间）的输出文件未能写完："
            f"{error}；本次重新运行 (the last run's outputs failed; running again)")


def money_totals(ctx: AuditContext, frame: pl.DataFrame) -> MoneyTotals:
    """Instructed, paid, matched and at-risk totals of M (yuan text, exact).

    *matched*: paid money on keys where the paid total equals the instructed
    total and no R01–R05 finding exists; *at risk*: per (payee, program) the
    largest amount of its R01–R05 findings, summed (not double-counted).
    """
    # kept from the reconciliation family, not computed again: every key's sums and the totals of the keys
    # that do not reconcile cleanly (every instruction and paid row of M is in one key's totals)
    instructed, paid, clean = ctx.shared(money_sums).row(0)
    totals = ctx.shared(key_totals)
    recon = frame.filter(pl.col("rule").is_in(rules_in("reconciliation_totals")))
    flagged = recon.group_by("person_id", "program").agg(fen=pl.col("amount_fen").fill_null(0).max())
    matching = pl.col("paid_fen").filter((pl.col("paid_fen") == pl.col("instructed_fen")) & (pl.col("n_paid") > 0))
    of_flagged = (totals.filter(pl.col("person_id").is_in(flagged["person_id"].implode()))
                  .with_columns(pl.col("program").cast(pl.String))  # the loaded code may be categorical
                  .join(flagged, on=["person_id", "program"], how="semi"))
    # a clean key matches (one instruction, one paid row of its amount): the clean total, the other keys'
    # matching total, less that of the flagged keys
    matched = (clean or 0) + totals.select(matching.sum()).item() - of_flagged.select(matching.sum()).item()
    clean_flagged = flagged.join(of_flagged, on=["person_id", "program"], how="anti")
    if clean_flagged.height:  # a flagged key that reconciles cleanly (no R rule reports one): its paid row
        matched -= paid_of_keys(ctx, clean_flagged)
    return MoneyTotals(instructed=fen_to_yuan(int(instructed or 0)), paid=fen_to_yuan(int(paid or 0)),
                       matched=fen_to_yuan(int(matched or 0)), at_risk=fen_to_yuan(int(flagged["fen"].sum() or 0)))


def run_audit(*, month: str, data_dir: str | Path, out_dir: str | Path, profile: Profile,
              db_url: str | None = None, codes: list[str] | None = None, actor: str = "system",
              stages: Stages | None = None) -> AuditResult:
    """Run the monthly audit and write every output file; return what was found.

    The store is written in one transaction before the outputs, which appear in ``out_dir`` all at
    once (``auditor.jobs.publish``); until they do the run is stored as ``outputs_pending``, and as
    ``outputs_failed`` (with the error) when writing them failed. The run's normalised tables are kept as a
    snapshot (``auditor.jobs.snapshot``), written alongside the outputs and deleted if they fail; a rerun
    with unchanged files loads them from there.
    ``stages`` times the stages (and may report them, see ``Stages.listener``).
    """
    started = datetime.now().astimezone()
    out = Path(out_dir)
    check_out_dir(out, OUTPUT_FILES)
    stages = stages or Stages()
    snapshots = snapshot_root(profile, db_url)
    # The store is opened (a new one migrated: mostly Python and SQLite) in a thread while the drop loads;
    # an unusable --db is still reported after the checks, and a load or check error comes first. Unless a
    # snapshot lists files of the same names and sizes, the files are hashed (for this run's snapshot) there too.
    aside = ThreadPoolExecutor(max_workers=2, thread_name_prefix="aside")
    opening = aside.submit(store.connect, db_url)
    try:
        with stages("load", total=len(TABLES)):
            matchable = could_match(snapshots, month=month, profile=profile, data_dir=data_dir)
            hashing = None if matchable else aside.submit(input_files, data_dir)
            aside.shutdown(wait=False)
            inputs = input_files(data_dir) if matchable else {}
            prior = matching_snapshot(snapshots, month=month, profile=profile, inputs=inputs) if matchable else None
            if prior is not None:
                log.info("files unchanged since run %s: tables loaded from its snapshot", prior.name)
                drop = load_snapshot(prior, data_dir, stream_rows=profile.stream_above_rows)
            else:
                drop = load_drop(data_dir, profile, on_table=stages.step, stream_rows=profile.stream_above_rows,
                                 compact=True)
        checkpoint("load")
        require_month_rows(drop, month)
        ctx = AuditContext(month=month, profile=profile, drop=drop)
        with stages("checks", total=len(load_catalogue())):
            frame, statuses = run_rules(ctx, codes, on_rule=stages.tick)
            ctx.release(())  # the rules' shared frames: the sample and the money totals read their own
            sample = draw_sample(ctx)
        checkpoint("checks")
        # What the run's summary takes from the tables and findings, while polars' threads are free (the
        # snapshot's Parquet writer keeps them busy from the end of this block on)
        quarantine_reasons = (drop.quarantine.group_by("table", "column", "reason").agg(count=pl.len())
                              .sort("table", "column", "reason").to_dicts())
        counts = FindingCounts(
            total=frame.height,
            by_rule=dict(sorted(frame["rule"].value_counts().iter_rows())) if frame.height else {},
            by_severity=dict(sorted(frame["severity"].value_counts().iter_rows())) if frame.height else {})
        money = money_totals(ctx, frame)
        del ctx  # its shared frames (gigabytes at national scale) are not held while the rest runs
    except BaseException:
        _close_opened(opening)
        raise
    engine = opening.result()
    inputs = hashing.result() if hashing else inputs
    # The snapshot is written from here on, alongside the store and the outputs (a thread: polars writes
    # Parquet without holding the GIL, the store and the outputs are mostly Python); it takes the run's id
    # once the store has given one, and the "snapshot" stage is the wait for it after run.json.
    run_number: Future[int] = Future()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot")
    snapshot = pool.submit(write_snapshot, snapshots, run_id=run_number, month=month, profile=profile, drop=drop,
                           inputs=inputs)
    pool.shutdown(wait=False)
    try:
        try:
            with stages("store"):
                notice = previous_failure(engine, month)
                if notice:
                    log.warning(notice)
                summary = RunSummary(
                    month=month, profile=profile.name, district=profile.district, data_dir=str(data_dir),
                    started_at=started.isoformat(timespec="seconds"),
                    finished_at=datetime.now().astimezone().isoformat(timespec="seconds"),
                    tables=dict(drop.stats), quarantine_reasons=tuple(quarantine_reasons), checks=tuple(statuses),
                    money=money, findings=counts, sample_size=sample.height,
                    loaded_from_snapshot=int(prior.name) if prior is not None else None)
                run_id = save_run(engine, month=month, profile=profile.name, data_dir=str(data_dir),
                                  started_at=started, frame=frame, summary=summary.to_dict(), actor=actor,
                                  status=OUTPUTS_PENDING, before_commit=lambda: checkpoint("store"))
        except BaseException as exc:
            run_number.set_exception(exc)  # a run that was not stored keeps no snapshot
            _discard_snapshot(snapshot)
            raise
        run_number.set_result(run_id)
        log.info("snapshot of run %s being written alongside the outputs", run_id)
        try:
            with staged(out) as stage:
                with stages("outputs"):
                    issues = fill_programs(issue_rows(engine, frame, month), drop.tables["cases"])
                    write_outputs(stage, frame=frame, drop=drop, sample=sample, issues=issues,
                                  month=month, profile=profile, summary=summary)
                summary = summary.finished(run_id=run_id, durations=stages.durations
                                           | {"total": round(time.perf_counter() - stages.t0, 3)})
                write_json(summary.to_dict(), stage / "run.json")
                checkpoint("output:run.json")
        except Exception as exc:
            _discard_snapshot(snapshot)  # a run whose outputs failed keeps no snapshot
            mark_run(engine, run_id, OUTPUTS_FAILED, f"{type(exc).__name__}: {exc}"[:500])
            raise
        mark_run(engine, run_id, "ok")
        try:
            with stages("snapshot"):  # after run.json: its time is in the log and the benchmark, not in run.json
                snapshot.result()
        except OSError as exc:  # the audit itself is complete: say so, do not fail it
            gap = f"本次运行的数据快照未能保存 (snapshot not written): {exc.strerror or exc}"
            log.warning(gap)
            notice = f"{notice}\n{gap}" if notice else gap
    finally:
        engine.dispose()
    return AuditResult(run_id, out, frame, summary, notice)


def _close_opened(opening: Future[Engine]) -> None:
    """Wait for the store being opened and close it (the run stopped before storing)."""
    try:
        opening.result().dispose()
    except Exception:  # noqa: BLE001 - the run's own error is the one reported
        return


def _discard_snapshot(snapshot: Future[Path]) -> None:
    """Wait for a snapshot being written and delete it (the run it belongs to failed)."""
    try:
        folder = snapshot.result()
    except Exception:  # noqa: BLE001 - nothing written (write_snapshot removes its partial folder)
        return
    shutil.rmtree(folder, ignore_errors=True)


def write_outputs(folder: Path, *, frame: pl.DataFrame, drop: Drop, sample: pl.DataFrame,
                  issues: pl.DataFrame, month: str, profile: Profile, summary: RunSummary) -> None:
    """Write every output file but ``run.json`` into ``folder`` (owner-only: they hold personal data);
    ``issues`` are the 问题清单 rows made from ``frame``. The 问题清单 and the report mask what they show
    (``mask_frame``: the report only the findings it lists, evidence included)."""
    private_dir(folder)
    write_csv(findings_csv_frame(frame), folder / "findings.csv")
    checkpoint("output:findings.csv")
    write_csv(drop.quarantine, folder / "quarantine.csv")
    checkpoint("output:quarantine.csv")
    write_csv(sample, folder / "sample.csv")
    checkpoint("output:sample.csv")
    write_issues_xlsx(issues, folder / "issues.xlsx", month=month, district=profile.district, mask=mask_frame)
    checkpoint("output:issues.xlsx")
    section = relations_section(frame, {c: cls.name for c, cls in load_catalogue().items()}, mask=mask_frame)
    data = build_report_data(frame, summary, [section] if section else [], mask=mask_frame)
    write_private_text(folder / "report.html", data.render())
    checkpoint("output:report.html")
