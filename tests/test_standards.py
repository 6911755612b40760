"""The ``standards`` table through the loader, and what S02/S03 count when a case has no members."""

from __future__ import annotations

import json

import polars as pl
from openpyxl import Workbook

from auditor.core.config import load_profile
from auditor.ingest.loader import load_drop
from tests.rulecases import run_case
from tests.test_loader import write_minimal

PROFILE = load_profile(None)


def test_standards_gbk_csv_with_chinese_headers_and_bad_rows_quarantined(tmp_path):
    write_minimal(tmp_path)
    rows = ["救助类型,起始月份,每人每月标准",
            "低保,2026年1月,\"1,500.00元\"",
            "特困,202601,2000",
            "养老金,2026-01,100.00",
            "dibao,2026-13,1600.00"]
    (tmp_path / "standards.csv").write_bytes("\n".join(rows).encode("gbk"))
    drop = load_drop(tmp_path, PROFILE)
    standards = drop.tables["standards"].sort("program")
    assert standards.rows() == [("dibao", "2026-01", 150000), ("tekun", "2026-01", 200000)]
    stats = drop.stats["standards"]
    assert (stats.read, stats.accepted, stats.quarantined) == (4, 2, 2)
    bad = drop.quarantine.filter(pl.col("table") == "standards").sort("source_row")
    assert bad.select("source_row", "column").rows() == [(3, "program"), (4, "from_month")]


def test_standards_xlsx_sheet_with_chinese_headers(tmp_path):
    write_minimal(tmp_path)
    wb = Workbook()
    ws = wb.active
    ws.title = "standards"
    ws.append(["救助标准（示例）"])
    ws.append(["救助类型", "起始月份", "每人每月标准"])
    ws.append(["特困", "2026-07", 2100.5])
    wb.save(tmp_path / "standards.xlsx")
    drop = load_drop(tmp_path, PROFILE)
    assert drop.tables["standards"].rows() == [("tekun", "2026-07", 210050)]


def test_cases_without_members_are_counted_for_the_run_summary(tmp_path):
    doc = {"rule": "S02", "month": "2026-10"}
    case = {"tables": {
        "cases": [{"case_id": "C1", "payee_id": "@A", "monthly_amount": "9000.00"},
                  {"case_id": "C2", "payee_id": "@B", "monthly_amount": "9000.00"},
                  {"case_id": "C3", "payee_id": "@C", "monthly_amount": "1000.00"}],
        "members": [{"case_id": "C3", "person_id": "@C"}],
        "standards": [{"program": "dibao", "from_month": "2026-01", "amount": "1500.00"}]}}
    findings, statuses = run_case(tmp_path, doc, case)
    status = next(s for s in statuses if s.code == "S02")
    assert status.ran and findings.height == 0
    assert status.skipped == {"cases_without_members": 2}


def test_run_json_reports_input_quality(demo_run):
    _, result, _ = demo_run
    summary = json.loads((result.out_dir / "run.json").read_text(encoding="utf-8"))
    assert summary["input_quality"]["S02"] == {"cases_without_members": 1}
    assert {"S01", "S02", "S03"} <= set(summary["checks_run"])
