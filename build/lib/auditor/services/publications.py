"""What the joint-meeting office publishes: the office report and the dishonesty list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditor.core.config import Profile
from auditor.core.errors import AuditInputError
from auditor.followup.office import build_office_report, render_office_report
from auditor.followup.privacy import log_access
from auditor.ingest.loader import load_drop
from auditor.jobs.dishonesty import active_records, write_csv, write_xlsx
from auditor.services.session import Session


def office_report(s: Session, month: str, *, district: str) -> str:
    """The office's monthly report (HTML) from the store."""
    s.user.require("report")
    report = build_office_report(s.engine, month, district=district)
    log_access(s.engine, s.user, "office_report", target=month)
    return render_office_report(report)


@dataclass(frozen=True)
class DishonestyList:
    records: int
    csv: Path
    xlsx: Path


def dishonesty_list(*, data_dir: str | Path, month: str, profile: Profile, out_dir: Path) -> DishonestyList:
    """The active dishonesty records of ``month`` (一处失信、他处受限) as CSV and XLSX in ``out_dir``."""
    drop = load_drop(data_dir, profile, only={"dishonesty"})
    if "dishonesty" not in drop.tables:
        raise AuditInputError(f"{data_dir}: 缺少失信记录表 dishonesty（dishonesty.csv / .xlsx / .parquet）")
    table = active_records(drop.tables["dishonesty"], month)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = out_dir / f"dishonesty-{month}.csv", out_dir / f"dishonesty-{month}.xlsx"
    write_csv(table, csv_path)
    write_xlsx(table, xlsx_path, month)
    return DishonestyList(table.height, csv_path, xlsx_path)
