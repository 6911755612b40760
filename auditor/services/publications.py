"""What the joint-meeting office publishes: the office report and the dishonesty list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditor.core.config import Profile
from auditor.core.errors import AuditInputError
from auditor.core.private import private_dir
from auditor.followup.accesslog import log_access
from auditor.followup.office import build_office_report, render_office_report
from auditor.ingest.loader import load_drop
from auditor.jobs.dishonesty import active_records, write_csv, write_xlsx
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
    drop = load_drop(data_dir, profile, only={"dishonesty"})
    if "dishonesty" not in drop.tables:
        raise AuditInputError(f"{data_dir}: 缺少失信记录表 dishonesty（dishonesty.csv / .xlsx / .parquet）")
    table = active_records(drop.tables["dishonesty"], month)
    private_dir(out_dir)
    csv_path, xlsx_path = out_dir / f"dishonesty-{month}.csv", out_dir / f"dishonesty-{month}.xlsx"
    write_csv(table, csv_path)
    write_xlsx(table, xlsx_path, month)
    log_access(s.engine, s.user, "dishonesty.publish", target=month,
               detail={"records": table.height, "files": [str(csv_path), str(xlsx_path)]}, unmasked=True)
    return DishonestyList(table.height, csv_path, xlsx_path)
