"""问题清单 ``issues.xlsx``: a summary sheet and one sheet per street, with columns for the street to fill in."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl

from auditor.core.cells import xlsx_row
from auditor.core.private import make_private
from auditor.core.vocab import PROGRAM_LABELS, SEVERITY_LABELS
from auditor.engine.runner import load_catalogue

DISTRICT_SHEET = "区级"  # findings with no street (e.g. dishonesty records)

ISSUE_HEADERS = [
    ("finding_id", "问题编号", 18), ("rule", "规则", 6), ("rule_name", "规则名称", 14),
    ("severity", "严重程度", 8), ("program", "救助类型", 10), ("case_id", "案件编号", 14),
    ("person_id", "身份证号", 20), ("staff_id", "工号", 10), ("bank_account", "银行账号", 22),
    ("application_id", "申请编号", 12), ("record_id", "记录编号", 12), ("amount", "涉及金额(元)", 12),
    ("title", "问题描述", 60), ("status", "处理状态", 10),
]
STREET_FILLS = [("verify_result", "核查结果", 12), ("rectification", "整改措施", 30),
                ("responsible", "整改责任人", 12), ("done_on", "完成日期", 12), ("remarks", "备注", 20)]
VERIFY_CHOICES = "属实,部分属实,不属实"


def _sheet_title(name: str, taken: set[str]) -> str:
    clean = "".join("_" if ch in '[]:*?/\\' else ch for ch in name)[:31] or "未命名"
    title, n = clean, 2
    while title in taken:
        title = f"{clean[:28]}_{n}"
        n += 1
    taken.add(title)
    return title


def write_issues_xlsx(frame: pl.DataFrame, path: Path, *, month: str, district: str,
                      mask=None) -> None:
    """问题清单: a summary sheet and one sheet per street, with columns for the street to fill.

    ``mask`` (optional) is applied to the person/account columns before writing.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    names = {code: cls.name for code, cls in load_catalogue().items()}
    head_font, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
    fill_fill = PatternFill("solid", fgColor="FFF2CC")
    wb = Workbook()
    summary = wb.active
    summary.title = "汇总"
    summary.append([f"{district} {month} 社会救助资金审计问题清单"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([])
    summary.append(["街镇", "问题总数", "高", "中", "低", "涉及金额(元)", "工作表"])
    for cell in summary[3]:
        cell.font, cell.fill = head_font, head_fill
    data = frame.with_columns(street=pl.col("street").fill_null(DISTRICT_SHEET))
    taken = {"汇总"}
    streets = sorted(data["street"].unique().to_list()) if data.height else []
    for street in streets:
        rows = data.filter(pl.col("street") == street).sort("severity", "rule", "finding_id")
        if mask is not None:
            rows = mask(rows)
        title = _sheet_title(street, taken)
        sev = rows["severity"].value_counts()
        count = dict(zip(sev["severity"].to_list(), sev["count"].to_list(), strict=False))
        fen = rows["amount_fen"].fill_null(0).sum()
        xlsx_row(summary, [street, rows.height, count.get("high", 0), count.get("medium", 0), count.get("low", 0),
                        Decimal(fen) / 100, title])
        summary.cell(summary.max_row, 6).number_format = "#,##0.00"
        ws = wb.create_sheet(title)
        headers = ISSUE_HEADERS + STREET_FILLS
        ws.append([h[1] for h in headers])
        for i, (_, _, width) in enumerate(headers, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = width
            cell = ws.cell(1, i)
            cell.font, cell.alignment = head_font, Alignment(wrap_text=True)
            cell.fill = fill_fill if i > len(ISSUE_HEADERS) else head_fill
            if i > len(ISSUE_HEADERS):
                cell.font = Font(bold=True)
        for r in rows.iter_rows(named=True):
            values = {**r, "rule_name": names.get(r["rule"], ""), "severity": SEVERITY_LABELS[r["severity"]],
                      "program": PROGRAM_LABELS.get(r["program"], r["program"]),
                      "amount": None if r["amount_fen"] is None else Decimal(r["amount_fen"]) / 100,
                      "status": r.get("status") or "new"}
            xlsx_row(ws, [values.get(key) for key, _, _ in ISSUE_HEADERS] + [None] * len(STREET_FILLS))
            ws.cell(ws.max_row, 12).number_format = "#,##0.00"
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions
        check = DataValidation(type="list", formula1=f'"{VERIFY_CHOICES}"', allow_blank=True)
        ws.add_data_validation(check)
        col = ws.cell(1, len(ISSUE_HEADERS) + 1).column_letter
        check.add(f"{col}2:{col}{max(rows.height + 1, 2)}")
    for letter, width in zip("ABCDEFG", (16, 10, 6, 6, 6, 16, 16), strict=False):
        summary.column_dimensions[letter].width = width
    wb.save(path)
    make_private(path)
