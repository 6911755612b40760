"""The monthly scheduler: audit each month when its drop has arrived, quarterly job, reminders.

Drop layout: ``<inbox>/<YYYY-MM>/`` holds the data drop of that month. It is
*ready* when it contains the ``ready_marker`` file (``READY``, written last by
whoever delivers the drop), or — without a marker — when every required table
file is present. From ``day`` of the following month, a ready month with no
stored run is audited (oldest first; catch-up after downtime is automatic).

Two runs of one month never overlap: each holds the lock ``audit:<month>``
(``store.lock``, which dies with its process). A failed run is logged and retried up to
``retries`` times; unusable input is logged and not retried. The store write
is one transaction, so a failure never leaves half a month behind.
After the audit of a month in ``quarterly_months`` the ``quarterly`` command is
run if it exists. Each cycle writes the overdue rectifications to a CSV.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import select

from auditor import store
from auditor.core.cells import write_safe_csv
from auditor.core.config import Profile
from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_frame
from auditor.core.private import private_dir
from auditor.followup.workflow import Filters, query
from auditor.ingest.schema import REQUIRED_TABLES, TABLES
from auditor.jobs.monthly import month_lock, run_audit

log = logging.getLogger("auditor.scheduler")
MONTH_DIR = re.compile(r"^\d{4}-\d{2}$")


def drop_ready(folder: Path, marker: str) -> bool:
    from auditor.ingest.loader import find_table_file

    if (folder / marker).exists():
        return True
    try:
        return all(find_table_file(folder, TABLES[t]) is not None for t in REQUIRED_TABLES)
    except AuditInputError:
        return False


def audit_day(month: str, day: int) -> date:
    y, m = map(int, month.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return date(y, m, day)


def due_months(profile: Profile, today: date) -> list[str]:
    """Ready months in the inbox, past their audit day, with no stored run; oldest first."""
    s = profile.schedule
    inbox = Path(s.inbox)
    if not inbox.is_dir():
        log.warning("收件目录不存在 (inbox missing): %s", inbox)
        return []
    engine = store.connect(s.db)
    with engine.connect() as conn:
        done = set(conn.execute(select(store.runs.c.month).where(store.runs.c.status == "ok")).scalars())
    engine.dispose()
    months = sorted(p.name for p in inbox.iterdir() if p.is_dir() and MONTH_DIR.match(p.name))
    return [m for m in months if m not in done and audit_day(m, s.day) <= today
            and drop_ready(inbox / m, s.ready_marker)]


def run_month(profile: Profile, month: str, *, sleep: Callable[[float], None] = time.sleep,
              actor: str = "scheduler") -> bool:
    """Audit ``month`` under its lock with bounded retries; True when it succeeded."""
    s = profile.schedule
    for attempt in range(1, s.retries + 2):
        try:
            with month_lock(s.db, month, "scheduler"):
                result = run_audit(month=month, data_dir=Path(s.inbox) / month, out_dir=Path(s.out) / month,
                                   profile=profile, db_url=s.db, actor=actor)
            log.info("审计完成 %s: %s 条问题线索", month, result.run.findings.total)
            return True
        except AuditInputError as exc:
            log.error("审计 %s 未运行 (not run): %s", month, exc)
            return False
        except Exception:  # noqa: BLE001 - any failure is logged and retried
            log.exception("审计 %s 第 %d 次失败 (attempt failed)", month, attempt)
            if attempt <= s.retries:
                sleep(s.retry_delay_seconds)
    log.error("审计 %s 重试 %d 次后仍失败 (gave up)", month, s.retries)
    return False


def run_quarter_after(profile: Profile, month: str) -> int:
    """Run the quarterly information-sharing job of the quarter ending with ``month``; its exit code
    (0 ran, 2 unusable input), logged like the ``quarterly`` command's."""
    from auditor.jobs.quarterly import run_quarterly

    s = profile.schedule
    quarter = f"{month[:4]}Q{(int(month[5:7]) - 1) // 3 + 1}"
    try:
        result = run_quarterly(quarter=quarter, data_dir=Path(s.inbox) / month, out_dir=Path(s.out) / quarter,
                               profile=profile)
        log.info("季度信息比对 %s：线索 %d 条", quarter, result.data.total_clues)
        code = 0
    except AuditInputError as exc:
        log.error("季度信息比对 %s 未运行 (not run): %s", quarter, exc)
        code = 2
    (log.info if code == 0 else log.error)("季度信息比对 %s 结束，退出码 %s", month, code)
    return code


def write_reminders(profile: Profile, today: date) -> Path:
    """Overdue rectifications (open, past due) to ``<reminders_dir>/overdue-<date>.csv``, masked."""
    s = profile.schedule
    engine = store.connect(s.db)
    frame = query(engine, Filters(overdue=True), today=today)
    engine.dispose()
    out = Path(s.reminders_dir) / f"overdue-{today.isoformat()}.csv"
    private_dir(out.parent)
    columns = ["finding_id", "rule", "street", "assigned_street", "assignee", "due_date", "days_overdue",
               "status", "title"]
    if frame.is_empty():
        frame = pl.DataFrame(schema={c: pl.String for c in columns})
    else:
        frame = mask_frame(frame.with_columns(
            days_overdue=(pl.lit(today) - pl.col("due_date")).dt.total_days())).select(columns)
    write_safe_csv(frame, out)
    if frame.height:
        log.warning("逾期未整改 %d 条，提醒清单 %s", frame.height, out)
    return out


def cycle(profile: Profile, today: date | None = None, *, sleep: Callable[[float], None] = time.sleep,
          actor: str = "scheduler") -> dict:
    """One pass: audit every due month, run the quarterly job after quarter-end months, write reminders."""
    today = today or date.today()
    done = {}
    for month in due_months(profile, today):
        done[month] = run_month(profile, month, sleep=sleep, actor=actor)
        if done[month] and int(month[5:]) in profile.schedule.quarterly_months:
            run_quarter_after(profile, month)
    write_reminders(profile, today)
    return done


def serve(profile: Profile, job: Callable[[], object] | None = None) -> None:  # pragma: no cover - endless loop
    """Run ``job`` (default: ``cycle(profile)``) every day at the profile's time."""
    import schedule

    schedule.every().day.at(profile.schedule.at).do(job or (lambda: cycle(profile)))
    log.warning("调度已启动，每天 %s 检查收件目录 %s", profile.schedule.at, profile.schedule.inbox)
    while True:
        schedule.run_pending()
        time.sleep(30)
