"""问题清单 ``issues.xlsx``: a summary sheet and one sheet per street, with columns for the street to fill in.

Made to be printed and filled in: landscape, one page wide, the header row repeated on every page,
问题描述 wrapped; the summary sheet has a totals row and a link to each street's sheet (区级 last);
完成日期 only takes dates, 核查结果 a choice. Street sheets keep the layout ``findings import`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl
from openpyxl.worksheet.worksheet import Worksheet

from auditor.core.cells import xlsx_row
from auditor.core.private import make_private
from auditor.core.vocab import FINDING_STATUS_LABELS, PROGRAM_LABELS, SEVERITY_LABELS
from auditor.engine.runner import load_catalogue

DISTRICT_SHEET = "区级"  # findings with no street (e.g. dishonesty records)

ISSUE_HEADERS = [
    ("finding_id", "问题编号", 17), ("rule", "规则", 5), ("rule_name", "规则名称", 12),
    ("severity", "严重程度", 5), ("program", "救助类型", 8), ("case_id", "案件编号", 13),
    ("person_id", "身份证号", 19), ("staff_id", "工号", 7), ("bank_account", "银行账号", 21),
    ("application_id", "申请编号", 13), ("record_id", "记录编号", 10), ("amount", "涉及金额(元)", 11),
    ("title", "问题描述", 40), ("status", "处理状态", 8),
]
STREET_FILLS = [("verify_result", "核查结果", 9), ("rectification", "整改措施", 20),
                ("responsible", "整改责任人", 9), ("done_on", "完成日期", 11), ("remarks", "备注", 14)]
OPTIONAL = ("staff_id", "application_id", "record_id")  # hidden on a sheet where no row has one
VERIFY_CHOICES = "属实,部分属实,不属实"


def _case_ids(evidence: str | None) -> list[str]:
    """The case ids an evidence names (``case_id``, ``case_ids``, ``cases``, ``paid_cases``, ``C:`` nodes)."""
    try:
        data = json.loads(evidence) if evidence else {}
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    found = [data.get("case_id")]
    for key in ("case_ids", "cases", "paid_cases"):
        for v in data.get(key) or []:
            found.append(v.get("case_id") if isinstance(v, dict) else v)
    found += [n["id"][2:] for n in data.get("nodes") or [] if isinstance(n, dict) and str(n.get("id")).startswith("C:")]
    return [c for c in dict.fromkeys(found) if isinstance(c, str) and c]


def fill_programs(frame: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """Findings without a program get the programs of the cases their evidence names (``dibao,tekun``)."""
    missing = frame.filter(pl.col("program").is_null())
    if missing.is_empty():
        return frame
    ids = pl.DataFrame({"finding_id": missing["finding_id"],
                        "case_id": [_case_ids(e) for e in missing["evidence"].to_list()]},
                       schema={"finding_id": pl.String, "case_id": pl.List(pl.String)}).explode("case_id")
    found = (ids.join(cases.select("case_id", pl.col("program").alias("case_program")), on="case_id")
             .group_by("finding_id").agg(pl.col("case_program").unique(maintain_order=True).str.join(",")))
    return (frame.join(found, on="finding_id", how="left")
            .with_columns(program=pl.coalesce("program", "case_program")).drop("case_program"))


def _sheet_title(name: str, taken: set[str]) -> str:
    clean = "".join("_" if ch in '[]:*?/\\' else ch for ch in name)[:31] or "未命名"
    title, n = clean, 2
    while title in taken:
        title = f"{clean[:28]}_{n}"
        n += 1
    taken.add(title)
    return title


def _print_setup(ws: Worksheet, title_rows: str) -> None:
    """Landscape A4, one page wide (as many pages tall as needed), ``title_rows`` repeated on each page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.page_margins.left = ws.page_margins.right = 0.4


def _lines(text: str | None, width: int) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (a Chinese character is two)."""
    shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text or "")
    return max(1, -(-shown // max(width - 2, 1)))


def _program_label(program: str | None) -> str | None:
    return "、".join(PROGRAM_LABELS.get(p, p) for p in program.split(",")) if program else None


def write_issues_xlsx(frame: pl.DataFrame, path: Path, *, month: str, district: str,
                      mask: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> None:
    """问题清单: a summary sheet and one sheet per street, with columns for the street to fill.

    ``mask`` (optional) is applied to the person/account columns before writing.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.hyperlink import Hyperlink

    names = {code: cls.name for code, cls in load_catalogue().items()}
    head_font, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
    fill_fill = PatternFill("solid", fgColor="FFF2CC")
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
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
    streets = sorted(s for s in data["street"].unique().to_list() if s != DISTRICT_SHEET) if data.height else []
    if data.height and (data["street"] == DISTRICT_SHEET).any():
        streets.append(DISTRICT_SHEET)  # 区级 after the streets
    totals = [0, 0, 0, 0, 0]
    headers = ISSUE_HEADERS + STREET_FILLS
    col_of = {key: i for i, (key, _, _) in enumerate(headers, start=1)}
    for street in streets:
        rows = data.filter(pl.col("street") == street).sort("severity", "rule", "finding_id")
        if mask is not None:
            rows = mask(rows)
        title = _sheet_title(street, taken)
        sev = rows["severity"].value_counts()
        count = dict(zip(sev["severity"].to_list(), sev["count"].to_list(), strict=False))
        fen = rows["amount_fen"].fill_null(0).sum()
        line = [rows.height, count.get("high", 0), count.get("medium", 0), count.get("low", 0), fen]
        totals = [a + b for a, b in zip(totals, line, strict=True)]
        xlsx_row(summary, [street, *line[:4], Decimal(fen) / 100, title])
        summary.cell(summary.max_row, 6).number_format = "#,##0.00"
        link = summary.cell(summary.max_row, 7)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{title}'!A1", display=title)
        link.style = "Hyperlink"
        ws = wb.create_sheet(title)
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
                      "program": _program_label(r["program"]),
                      "amount": None if r["amount_fen"] is None else Decimal(r["amount_fen"]) / 100,
                      "status": r.get("status") or FINDING_STATUS_LABELS["new"]}
            xlsx_row(ws, [values.get(key) for key, _, _ in ISSUE_HEADERS] + [None] * len(STREET_FILLS))
            ws.cell(ws.max_row, col_of["amount"]).number_format = "#,##0.00"
            for cell in ws[ws.max_row]:
                cell.alignment = wrap if cell.column in (col_of["title"], col_of["rectification"]) else top
            ws.row_dimensions[ws.max_row].height = 15 * _lines(values["title"], headers[col_of["title"] - 1][2])
        for key in OPTIONAL:  # still there for the import, just not printed
            if rows[key].null_count() == rows.height:
                ws.column_dimensions[ws.cell(1, col_of[key]).column_letter].hidden = True
        last = max(rows.height + 1, 2)
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions
        check = DataValidation(type="list", formula1=f'"{VERIFY_CHOICES}"', allow_blank=True)
        ws.add_data_validation(check)
        col = ws.cell(1, col_of["verify_result"]).column_letter
        check.add(f"{col}2:{col}{last}")
        when = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True,  # 2000-01-01
                              showErrorMessage=True, errorTitle="完成日期",
                              error="请填写日期，如 2026-11-15 (a date)")
        ws.add_data_validation(when)
        done = ws.cell(1, col_of["done_on"]).column_letter
        when.add(f"{done}2:{done}{last}")
        for row in range(2, last + 1):
            ws[f"{done}{row}"].number_format = "yyyy-mm-dd"
        _print_setup(ws, "1:1")
    if streets:
        xlsx_row(summary, ["合计", *totals[:4], Decimal(totals[4]) / 100, None])
        summary.cell(summary.max_row, 6).number_format = "#,##0.00"
        for cell in summary[summary.max_row]:
            cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFG", (16, 10, 6, 6, 6, 16, 16), strict=False):
        summary.column_dimensions[letter].width = width
    _print_setup(summary, "3:3")
    wb.save(path)
    make_private(path)
