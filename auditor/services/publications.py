"""What the joint-meeting office publishes: the office report and the dishonesty list."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import select

from auditor import store
from auditor.core.config import Profile
from auditor.core.errors import AuditInputError
from auditor.core.periods import parse_month
from auditor.core.private import private_dir
from auditor.followup.accesslog import log_access
from auditor.followup.office import build_office_report, render_office_report
from auditor.ingest.compact import as_text
from auditor.ingest.loader import load_drop
from auditor.jobs.dishonesty import active_records, write_csv, write_xlsx
from auditor.jobs.snapshot import MANIFEST, snapshot_root
from auditor.services.session import Session


def office_report(s: Session, month: str, *, district: str) -> str:
    """The office's monthly report (HTML) from the store."""
    s.require("report", "office_report", target=month)
    report = build_office_report(s.engine, month, district=district)
    log_access(s.engine, s.user, "office_report", target=month)
    return render_office_report(report)


@dataclass(frozen=True)
class DishonestyList:
    records: int
    csv: Path
    xlsx: Path


def dishonesty_list(s: Session, *, data_dir: str | Path, month: str, profile: Profile,
                    out_dir: Path) -> DishonestyList:
    """The active dishonesty records of ``month`` (一处失信、他处受限) as CSV and XLSX in ``out_dir``;
    unmasked, for the roles with ``publish`` (office, auditor), and logged."""
    s.require("publish", "dishonesty.publish", target=month)
    table = active_records(_from_drop(data_dir, profile), month)
    private_dir(out_dir)
    csv_path, xlsx_path = out_dir / f"dishonesty-{month}.csv", out_dir / f"dishonesty-{month}.xlsx"
    write_csv(table, csv_path)
    write_xlsx(table, xlsx_path, month)
    log_access(s.engine, s.user, "dishonesty.publish", target=month,
               detail={"records": table.height, "files": [str(csv_path), str(xlsx_path)]}, unmasked=True)
    return DishonestyList(table.height, csv_path, xlsx_path)


def _from_drop(data_dir: str | Path, profile: Profile) -> pl.DataFrame:
    drop = load_drop(data_dir, profile, only={"dishonesty"})
    if "dishonesty" not in drop.tables:
        raise AuditInputError(f"{data_dir}: 缺少失信记录表 dishonesty（dishonesty.csv / .xlsx / .parquet）")
    return drop.tables["dishonesty"]


def _stored_records(s: Session, month: str, profile: Profile) -> tuple[pl.DataFrame, int]:
    """The dishonesty records of ``month``'s latest run: from its snapshot, else from its drop; and its run id."""
    runs = store.runs
    with s.engine.connect() as conn:
        run = conn.execute(select(runs.c.run_id, runs.c.data_dir).where(runs.c.month == month)
                           .order_by(runs.c.run_id.desc()).limit(1)).first()
    if run is None:
        raise AuditInputError(f"{month} 尚无审计运行记录，无法生成失信名单 (no run of {month} in the store)")
    folder = snapshot_root(profile, str(s.engine.url)) / str(run.run_id)
    try:  # the snapshot must be this run's (a folder shared by two stores could hold another's)
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        manifest = {}
    kept = folder / "dishonesty.parquet"
    if (manifest.get("run_id"), manifest.get("month")) == (run.run_id, month) and kept.is_file():
        return as_text(pl.scan_parquet(kept)).collect(), run.run_id  # codes and streets as text, as from the drop
    return _from_drop(run.data_dir, profile), run.run_id


def publish_dishonesty(s: Session, month: str, *, profile: Profile, fmt: str = "xlsx") -> tuple[str, bytes, int]:
    """The active dishonesty records of ``month`` as one file (``xlsx`` or ``csv``) from the month's latest run,
    unmasked: (file name, content, records). For the roles with ``publish``; logged with the run it came from."""
    s.require("publish", "dishonesty.publish", target=month)
    if fmt not in ("xlsx", "csv"):
        raise AuditInputError(f"文件格式 {fmt!r} 无效，应为 xlsx 或 csv (format)")
    month = parse_month(month, "month")
    records, run_id = _stored_records(s, month, profile)
    table = active_records(records, month)
    name = f"dishonesty-{month}.{fmt}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        if fmt == "xlsx":
            write_xlsx(table, path, month)
        else:
            write_csv(table, path)
        content = path.read_bytes()
    log_access(s.engine, s.user, "dishonesty.publish", target=month,
               detail={"records": table.height, "format": fmt, "run_id": run_id}, unmasked=True)
    return name, content, table.height
