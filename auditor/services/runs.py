"""Running audits: one month under its lock, the demo (a synthetic district generated and audited),
the scheduler's cycle, and runs in the browser (an uploaded drop or an inbox month run in a background
thread, its stages, its page, its quarantine and its output files; auditors only, every view logged).
The acting user (or the operating-system user, see ``operator_session``) is the actor of the run's
events, and each run is logged: ``findings.csv`` is the auditor's unmasked working file."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select

from auditor import store
from auditor.core.config import Profile, load_profile
from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_text, mask_value
from auditor.demo import generate
from auditor.followup.accesslog import log_access
from auditor.ingest.schema import TABLES
from auditor.jobs import drops, scheduler
from auditor.jobs.monthly import AuditResult, MonthBusy, month_lock, run_audit
from auditor.jobs.progress import Stages
from auditor.jobs.snapshot import prune_snapshots, snapshot_root
from auditor.services.session import Session

log = logging.getLogger("auditor.runs")


def run_month(s: Session, *, month: str, data_dir: str | Path, out_dir: str | Path, profile: Profile,
              db_url: str | None = None, stages: Stages | None = None,
              on_locked: Callable[[], None] | None = None) -> AuditResult:
    """Audit ``month`` of the drop in ``data_dir``; two runs of one month never overlap.

    ``result.notice`` says when the month's last run did not finish its outputs. Snapshots older than
    the profile's retention are then deleted, each deletion logged. ``on_locked`` is called once the
    month's lock is held (a background run tells its starter), ``stages`` reports progress."""
    s.require("run", "run.audit", target=month)
    with month_lock(db_url, month, s.user.name):
        if on_locked is not None:
            on_locked()
        result = run_audit(month=month, data_dir=data_dir, out_dir=out_dir, profile=profile, db_url=db_url,
                           actor=s.user.name, stages=stages)
        prune(s, profile, month, db_url)
    log_access(s.engine, s.user, "run.audit", target=month,
               detail={"run_id": result.run_id, "out": str(result.out_dir)}, unmasked=True)
    return result


def prune(s: Session, profile: Profile, month: str, db_url: str | None) -> list[int]:
    """Delete the snapshots older than the profile's retention before ``month`` and the uploaded drops kept
    longer than ``web.upload_retention_days``, logging each deletion. Returns the snapshots' run ids."""
    deleted = prune_snapshots(snapshot_root(profile, db_url), month, profile.snapshot_retention_months)
    for run_id in deleted:
        log_access(s.engine, s.user, "snapshot.delete", target=str(run_id),
                   detail={"month": month, "retention_months": profile.snapshot_retention_months})
    days = profile.web.upload_retention_days
    for job in drops.expired_uploads(drops.runs_root(profile, db_url), days):
        drops.delete_upload(job)
        log_access(s.engine, s.user, "run.upload.delete", target=job.month,
                   detail={"job": job.job_id, "retention_days": days})
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


# --- runs in the browser: upload or pick a drop, run it in the background, look at what it did ---

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
OUTPUTS = {  # file -> (download name suffix, media type, holds unmasked personal data)
    "report.html": ("report.html", "text/html; charset=utf-8", False),
    "issues.xlsx": ("issues.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False),
    "findings.csv": ("findings.csv", "text/csv; charset=utf-8", True),
    "quarantine.csv": ("quarantine.csv", "text/csv; charset=utf-8", True),
    "sample.csv": ("sample.csv", "text/csv; charset=utf-8", True),
    "run.json": ("run.json", "application/json", False),
}
PERSONAL_KINDS = ("person_id", "phone", "account")


def _month(month: str) -> str:
    if not MONTH.match(month or ""):
        raise AuditInputError(f"审计月份 {month or '（空）'} 无效，应为 2026-10 这样的年月 (month must be YYYY-MM)")
    return month


def start_run(s: Session, *, month: str, profile: Profile, db_url: str, files: list[tuple[str, bytes]] | None = None,
              inbox: bool = False, wait: float = 15.0) -> drops.Job:
    """Start the audit of ``month`` in a background thread: of an uploaded drop (``files``: one zip or the
    table files) or of the month's folder in the scheduler's inbox. Returns once the month's lock is held;
    a month already running raises ``MonthBusy``, a drop refused ``AuditInputError``, in Chinese.
    A crash of the run is recorded in its job as a failed run with a one-line reason."""
    s.require("run", "run.start", target=month)
    month = _month(month)
    root = drops.runs_root(profile, db_url)
    if inbox:
        folder = Path(profile.schedule.inbox) / month
        if not (folder.is_dir() and drops.drop_ready(folder, profile.schedule.ready_marker)):
            raise AuditInputError(f"收件目录中没有已就绪的 {month} 数据包 (no ready drop of {month} in the inbox)")
        job = drops.new_job(root, month=month, user=s.user.name, source="inbox", data_dir=folder)
    else:
        uploads = files or []
        limit = profile.web.drop_upload_mb * 2**20
        if sum(len(content) for _, content in uploads) > limit:
            raise AuditInputError(f"上传的数据超过 {profile.web.drop_upload_mb} MB (upload over the limit)")
        job = drops.new_job(root, month=month, user=s.user.name, source="upload")
        try:
            job.files = drops.unpack(uploads, Path(job.data_dir), unpacked_limit=profile.web.drop_unpacked_mb * 2**20)
        except BaseException:
            drops.discard(job)
            raise
        job.save()
        log_access(s.engine, s.user, "run.upload", target=month,
                   detail={"job": job.job_id, "files": sorted(job.files.values())})
    locked = threading.Event()
    threading.Thread(target=_background, args=(s, job, profile, db_url, locked), daemon=True,
                     name=f"audit-{month}-{job.job_id}").start()
    locked.wait(wait)
    if job.status in ("busy", "refused"):
        drops.discard(job)
        raise (MonthBusy if job.status == "busy" else AuditInputError)(job.reason)
    return job


def _background(s: Session, job: drops.Job, profile: Profile, db_url: str, locked: threading.Event) -> None:
    def on_locked() -> None:
        job.status = "running"
        job.save()
        locked.set()

    try:
        result = run_month(s, month=job.month, data_dir=job.data_dir, out_dir=job.out_dir, profile=profile,
                           db_url=db_url, stages=Stages(listener=job.listen), on_locked=on_locked)
        job.finish("ok", reason=result.notice or "", run_id=result.run_id)
    except Exception as exc:  # noqa: BLE001 - any failure is the run's outcome, shown on its page
        if isinstance(exc, AuditInputError):
            reason = str(exc).strip()
        else:
            log.exception("审计 %s（任务 %s）失败", job.month, job.job_id)
            reason = f"{type(exc).__name__}: {exc}".strip()
        reason = (reason.splitlines() or ["运行失败 (run failed)"])[0][:300]
        job.finish("failed" if locked.is_set() else "busy" if isinstance(exc, MonthBusy) else "refused", reason=reason)
        if locked.is_set():
            log_access(s.engine, s.user, "run.failed", target=job.month, detail={"job": job.job_id, "reason": reason})
    finally:
        locked.set()


def job_status(s: Session, profile: Profile, db_url: str, job_id: str) -> drops.Job:
    """A browser-started run's job (its stages as they go)."""
    s.require("run", "run.job", target=job_id)
    job = drops.load_job(drops.runs_root(profile, db_url), job_id)
    if job is None:
        raise AuditInputError(f"没有运行任务 {job_id} (no such job)")
    return job


@dataclass(frozen=True)
class RunList:
    runs: list[dict[str, Any]]  # stored runs, newest first: run_id, month, status, started_at, finished_at, summary
    jobs: list[drops.Job]  # runs started in the browser, newest first
    inbox: list[drops.InboxMonth]


def list_runs(s: Session, profile: Profile, db_url: str, *, limit: int = 100) -> RunList:
    s.require("run", "run.list")
    with s.engine.connect() as conn:
        rows = conn.execute(select(store.runs).order_by(store.runs.c.run_id.desc()).limit(limit)).mappings().all()
    runs = [dict(r) | {"summary": json.loads(r["summary"] or "{}")} for r in rows]
    return RunList(runs, drops.list_jobs(drops.runs_root(profile, db_url))[:limit], drops.inbox_months(profile))


@dataclass(frozen=True)
class RunView:
    run_id: int
    month: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any]  # the run.json layout
    out_dir: Path | None  # where this run's outputs still are (None: moved, replaced or unknown)
    outputs: list[str]


def _stored(s: Session, run_id: int) -> dict[str, Any]:
    with s.engine.connect() as conn:
        row = conn.execute(select(store.runs).where(store.runs.c.run_id == run_id)).mappings().first()
    if row is None:
        raise AuditInputError(f"没有运行号 {run_id} (no such run)")
    return dict(row)


def _out_dir(s: Session, row: dict[str, Any], profile: Profile, db_url: str) -> Path | None:
    """The folder holding run ``row``'s outputs: logged by ``run_month``, a browser job's, or the
    scheduler's; only while its ``run.json`` is still this run's (a later run replaces them)."""
    run_id, month = row["run_id"], row["month"]
    candidates = [j.out_dir for j in drops.list_jobs(drops.runs_root(profile, db_url)) if j.run_id == run_id]
    with s.engine.connect() as conn:
        details = conn.execute(select(store.access_log.c.detail).where(
            store.access_log.c.action == "run.audit", store.access_log.c.target == month)).scalars().all()
    for detail in details:
        logged = json.loads(detail or "{}")
        if logged.get("run_id") == run_id and logged.get("out"):
            candidates.append(Path(logged["out"]))
    if Path(row["data_dir"]) == Path(profile.schedule.inbox) / month:
        candidates.append(Path(profile.schedule.out) / month)
    for folder in candidates:
        try:
            if json.loads((folder / "run.json").read_text("utf-8")).get("run_id") == run_id:
                return folder
        except (OSError, ValueError):
            continue
    return None


def run_view(s: Session, run_id: int, profile: Profile, db_url: str) -> RunView:
    """One stored run: what it read, checked and found, and its output files (logged ``run.view``)."""
    s.require("run", "run.view", target=str(run_id))
    row = _stored(s, run_id)
    out = _out_dir(s, row, profile, db_url)
    outputs = [name for name in OUTPUTS if out is not None and (out / name).is_file()]
    log_access(s.engine, s.user, "run.view", target=str(run_id))
    return RunView(run_id, row["month"], row["status"], row["started_at"], row["finished_at"],
                   json.loads(row["summary"] or "{}"), out, outputs)


@dataclass(frozen=True)
class QuarantinePage:
    rows: list[dict[str, Any]]  # table, source_row, column, value (masked unless asked), reason, location
    total: int
    tables: list[str]  # tables with quarantined rows
    source: str  # snapshot or quarantine.csv


def _quarantine_frame(s: Session, row: dict[str, Any], profile: Profile, db_url: str) -> tuple[pl.DataFrame, str]:
    snap = snapshot_root(profile, db_url) / str(row["run_id"]) / "quarantine.parquet"
    if snap.is_file():
        return pl.read_parquet(snap), "snapshot"
    out = _out_dir(s, row, profile, db_url)
    if out is not None and (out / "quarantine.csv").is_file():
        return pl.read_csv(out / "quarantine.csv", infer_schema=False, encoding="utf8-lossy"), "quarantine.csv"
    raise AuditInputError(f"运行 {row['run_id']} 的隔离数据已不在（快照已清理，输出文件已被替换）"
                          f" (the run's quarantine is no longer kept)")


def _mask_quarantine(frame: pl.DataFrame) -> pl.DataFrame:
    kinds = {(t.name, c.name): c.kind for t in TABLES.values() for c in t.columns}

    def one(r: dict[str, Any]) -> str | None:
        value = r["value"]
        if kinds.get((r["table"], r["column"])) in PERSONAL_KINDS:
            return mask_value(value)
        return mask_text(value)

    return frame.with_columns(value=pl.Series([one(r) for r in frame.select("table", "column", "value")
                                               .iter_rows(named=True)], dtype=pl.String))


def quarantine_page(s: Session, run_id: int, profile: Profile, db_url: str, *, page: int = 1, size: int = 50,
                    table: str | None = None, unmask_reason: str | None = None) -> QuarantinePage:
    """Page ``page`` of run ``run_id``'s quarantined rows (each with its reason), personal values masked
    unless unmasked for a reason (roles with ``unmask``); every view is logged (``run.quarantine``)."""
    s.require("run", "run.quarantine", target=str(run_id))
    reason = (unmask_reason or "").strip()[:200] or None
    unmasked = s.unmasked(unmask_reason is not None, "run.quarantine", str(run_id))
    if unmasked and reason is None:
        raise AuditInputError("查看完整信息须填写理由 (a reason is required to unmask)")
    frame, source = _quarantine_frame(s, _stored(s, run_id), profile, db_url)
    tables = sorted(frame["table"].unique().to_list()) if frame.height else []
    if table:
        frame = frame.filter(pl.col("table") == table)
    part = frame.slice((max(page, 1) - 1) * size, size)
    if not unmasked:
        part = _mask_quarantine(part)
    log_access(s.engine, s.user, "run.quarantine", target=str(run_id),
               detail={"page": page, "table": table, "rows": part.height, "reason": reason}, unmasked=unmasked)
    return QuarantinePage(part.to_dicts(), frame.height, tables, source)


def output_file(s: Session, run_id: int, name: str, profile: Profile, db_url: str) -> tuple[Path, str, str]:
    """An output file of run ``run_id`` to download: (path, safe download name, media type); logged
    (``run.download``, unmasked for the files holding personal data in the clear)."""
    s.require("run", "run.download", target=f"{run_id}/{name}")
    if name not in OUTPUTS:
        raise AuditInputError(f"没有输出文件 {name} (no such output)")
    row = _stored(s, run_id)
    out = _out_dir(s, row, profile, db_url)
    if out is None or not (out / name).is_file():
        raise AuditInputError(f"运行 {run_id} 的输出文件 {name} 已不在（已被之后的运行替换或移走）"
                              f" (output no longer there)")
    suffix, media, personal = OUTPUTS[name]
    log_access(s.engine, s.user, "run.download", target=f"{run_id}/{name}", unmasked=personal)
    return out / name, f"run{run_id}-{row['month']}-{suffix}", media
