"""The monthly report: typed data rendered through one jinja2 environment (snapshot-tested)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import polars as pl
from openpyxl import load_workbook

from auditor.reporting.data import ReportData, RuleRow, StreetRow, TableRow, TopCase

SNAPSHOT = Path(__file__).parent / "snapshots" / "report.html"


def fixed_data() -> ReportData:
    return ReportData(
        district="上海市长宁区", month="2026-10", profile="changning", generated_at="2026-11-01T09:00:00+08:00",
        money={"instructed": "1234567.80", "paid": "1230000.00", "matched": "1200000.00", "at_risk": "34567.80"},
        total_findings=3, total_amount="2400.01", by_severity={"high": 2, "medium": 0, "low": 1},
        by_rule=[RuleRow("R01", "无指令支付", "reconciliation", "high", 2, "2400.00"),
                 RuleRow("R06", "拨付不及时", "reconciliation", "low", 1, "0.01")],
        by_street=[StreetRow("华阳路街道", 2, 0, 0, 2, "2400.00"), StreetRow("新泾镇", 0, 0, 1, 1, "0.01")],
        top=[TopCase("R01-AAAA", "R01", "无指令支付", "high", "华阳路街道", "1200.00", "领款人… 无指令 <script>",
                     ["王某 —配偶→ 李某"])],
        tables=[TableRow("ledger", "资金内控平台支付流水", "ledger.csv", 10, 9, 1, "")],
        quarantine_reasons=[{"table": "ledger", "column": "paid_on", "reason": "日期格式错误", "count": 1}],
        not_run=[{"code": "R07", "name": "资金滞留", "reason": "缺少数据表 allocations"}],
        sample_size=30,
    )


def test_rendered_report_matches_snapshot():
    html = fixed_data().render()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(html, encoding="utf-8")
    assert SNAPSHOT.exists(), f"snapshot {SNAPSHOT} missing: create it with UPDATE_SNAPSHOTS=1 and review it"
    assert html == SNAPSHOT.read_text(encoding="utf-8"), "report changed: rerun with UPDATE_SNAPSHOTS=1 and review the diff"


def test_report_escapes_text_and_formats_money():
    html = fixed_data().render()
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "1,234,567.80 元" in html and "王某 —配偶→ 李某" in html


def test_demo_report_is_self_contained_and_complete(demo_run):
    _, result, _ = demo_run
    html = (result.out_dir / "report.html").read_text(encoding="utf-8")
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html), "report must not load anything from the network"
    for heading in ("资金比对总览", "问题概况", "重点问题线索", "数据质量", "未运行的检查", "<svg"):
        assert heading in html
    assert result.summary["money"]["at_risk"] in html.replace(",", "")


def test_issues_xlsx_has_summary_and_one_sheet_per_street(demo_run):
    _, result, _ = demo_run
    wb = load_workbook(result.out_dir / "issues.xlsx")
    streets = set(result.findings["street"].fill_null("区级").to_list())
    assert wb.sheetnames[0] == "汇总" and set(wb.sheetnames[1:]) == streets
    ws = wb[sorted(streets)[0]]
    headers = [c.value for c in ws[1]]
    assert headers[0] == "问题编号" and "核查结果" in headers and "整改措施" in headers
    ids = {ws.cell(r, 1).value for r in range(2, ws.max_row + 1)}
    expected = result.findings.filter(pl.col("street").fill_null("区级") == sorted(streets)[0])["finding_id"]
    assert ids == set(expected.to_list())
