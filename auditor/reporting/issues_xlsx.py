"""问题清单 ``issues.xlsx``: a summary sheet and one sheet per street, with columns for the street to fill in.

Made to be printed and filled in: landscape, one page wide, the header row repeated on every page,
问题描述 wrapped; the summary sheet has a totals row and a link to each street's sheet (区级 last);
完成日期 only takes dates, 核查结果 a choice. Street sheets keep the layout ``findings import`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from auditor.core.cells import xlsx_stream_row
from auditor.core.private import make_private
from auditor.core.vocab import FINDING_STATUS_LABELS, PROGRAM_LABELS, SEVERITY_LABELS
from auditor.engine.runner import load_catalogue
from auditor.reporting.xlsx_rows import column_letter, row_xml, splice_rows, text_cell, within_limit, yuan_cell

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet as StreamedSheet

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
BATCH_ROWS = 20_000  # findings whose rows are made at once


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


def _print_setup(ws: StreamedSheet, title_row: int) -> None:
    """Landscape A4, one page wide (as many pages tall as needed), ``title_row`` (0-based) repeated on each page."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(title_row)
    ws.set_margins(left=0.4, right=0.4)


def _lines(text: pl.Expr, width: int) -> pl.Expr:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (a Chinese character, any
    above U+2E80, is two): one expression over the column, not a loop over each text's characters."""
    shown = (text.str.len_chars() + text.str.count_matches(r"[^\x00-\x{2E80}]")).fill_null(0)
    per_line = max(width - 2, 1)
    return pl.max_horizontal(pl.lit(1), (shown + per_line - 1) // per_line)


def _street_rows(data: pl.DataFrame) -> pl.DataFrame:
    """The values of the street sheets' issue columns (labels; the amount stays in fen), in sheet order."""
    names = {code: cls.name for code, cls in load_catalogue().items()}
    program = (pl.col("program").str.split(",")
               .list.eval(pl.element().replace(PROGRAM_LABELS)).list.join("、"))
    return data.sort("street", "severity", "rule", "finding_id").with_columns(
        rule_name=pl.col("rule").replace_strict(names, default=""),
        severity=pl.col("severity").replace_strict(SEVERITY_LABELS),
        program=pl.when(pl.col("program") != "").then(program),
        status=pl.col("status").fill_null(FINDING_STATUS_LABELS["new"]) if "status" in data.columns
        else pl.lit(FINDING_STATUS_LABELS["new"]))


def write_issues_xlsx(frame: pl.DataFrame, path: Path, *, month: str, district: str,
                      mask: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> None:
    """问题清单: a summary sheet and one sheet per street, with columns for the street to fill.

    ``mask`` (optional) is applied to the person/account columns before writing. xlsxwriter lays the
    workbook out in memory (formats, columns, validation, print setup, headers); the findings' rows are
    made by polars expressions, a batch of streets at a time, and added as it is copied to ``path``
    (``auditor.reporting.xlsx_rows``): time and memory grow linearly with the findings.
    """
    import xlsxwriter

    data = frame.with_columns(street=pl.col("street").fill_null(DISTRICT_SHEET))
    if mask is not None and data.height:
        data = mask(data.drop("evidence", strict=False))  # not in the workbook: not masked for nothing
    streets = sorted(s for s in data["street"].unique().to_list() if s != DISTRICT_SHEET) if data.height else []
    if data.height and (data["street"] == DISTRICT_SHEET).any():
        streets.append(DISTRICT_SHEET)  # 区级 after the streets
    taken = {"汇总"}
    titles = [_sheet_title(street, taken) for street in streets]
    lines = {r["street"]: r for r in data.group_by("street").agg(
        total=pl.len(), high=(pl.col("severity") == "high").sum(), medium=(pl.col("severity") == "medium").sum(),
        low=(pl.col("severity") == "low").sum(), fen=pl.col("amount_fen").fill_null(0).sum(),
        **{f"has_{key}": pl.col(key).is_not_null().any() for key in OPTIONAL}).iter_rows(named=True)}

    template = BytesIO()
    wb = xlsxwriter.Workbook(template, {"in_memory": True})
    head = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E79", "text_wrap": True})
    fill_head = wb.add_format({"bold": True, "bg_color": "#FFF2CC", "text_wrap": True})
    money, bold = wb.add_format({"num_format": "#,##0.00"}), wb.add_format({"bold": True})
    bold_money = wb.add_format({"bold": True, "num_format": "#,##0.00"})
    summary = wb.add_worksheet("汇总")
    for col, width in enumerate((16, 10, 6, 6, 6, 16, 16)):
        summary.set_column(col, col, width)
    _print_setup(summary, 2)
    big = wb.add_format({"bold": True, "font_size": 14})
    summary.write_string(0, 0, f"{district} {month} 社会救助资金审计问题清单", big)
    xlsx_stream_row(summary, 2, ["街镇", "问题总数", "高", "中", "低", "涉及金额(元)", "工作表"], [head] * 7)
    for row, (street, title) in enumerate(zip(streets, titles, strict=True), start=3):
        line = lines[street]
        xlsx_stream_row(summary, row, [street, line["total"], line["high"], line["medium"], line["low"],
                                       Decimal(line["fen"]) / 100], [None] * 5 + [money])
        summary.write_url(row, 6, f"internal:'{title}'!A1", string=title)
    if streets:
        totals = [sum(lines[s][k] for s in streets) for k in ("total", "high", "medium", "low", "fen")]
        xlsx_stream_row(summary, 3 + len(streets), ["合计", *totals[:4], Decimal(totals[4]) / 100],
                        [bold] * 5 + [bold_money])

    headers = ISSUE_HEADERS + STREET_FILLS
    col_of = {key: i for i, (key, _, _) in enumerate(headers)}
    top, wrap = wb.add_format({"valign": "top"}), wb.add_format({"valign": "top", "text_wrap": True})
    formats = [wrap if key in ("title", "rectification") else
               wb.add_format({"valign": "top", "num_format": "#,##0.00"}) if key == "amount" else
               wb.add_format({"valign": "top", "num_format": "yyyy-mm-dd"}) if key == "done_on" else top
               for key, _, _ in headers]
    for street, title in zip(streets, titles, strict=True):
        ws = wb.add_worksheet(title)
        for col, (key, _, width) in enumerate(headers):
            hidden = key in OPTIONAL and not lines[street][f"has_{key}"]  # kept for the import, not printed
            ws.set_column(col, col, width, formats[col], {"hidden": True} if hidden else None)
        ws.freeze_panes(1, 1)
        _print_setup(ws, 0)
        xlsx_stream_row(ws, 0, [h for _, h, _ in headers],
                        [fill_head if i >= len(ISSUE_HEADERS) else head for i in range(len(headers))])
        last = lines[street]["total"]  # the findings' rows are added by splice_rows
        ws.autofilter(0, 0, last, len(headers) - 1)
        ws.data_validation(1, col_of["verify_result"], last, col_of["verify_result"],
                           {"validate": "list", "source": VERIFY_CHOICES.split(","), "ignore_blank": True})
        ws.data_validation(1, col_of["done_on"], last, col_of["done_on"], {
            "validate": "date", "criteria": ">", "value": date(2000, 1, 1), "ignore_blank": True,
            "error_title": "完成日期", "error_message": "请填写日期，如 2026-11-15 (a date)"})
    wb.close()
    if streets:  # the columns' formats are numbered by close(): the rows' cells take their numbers
        rows = _sheet_rows(_street_rows(data), streets, [int(f.xf_index) for f in formats[:len(ISSUE_HEADERS)]],
                           len(headers))
    else:
        rows = iter(())
    splice_rows(template, path, rows)
    make_private(path)


def _sheet_rows(data: pl.DataFrame, streets: list[str], styles: list[int],
                width: int) -> Iterator[tuple[str, str, str]]:
    """``(member, dimension, rows XML)`` of each street's sheet in sheet order (the summary is sheet 1),
    the rows made for about ``BATCH_ROWS`` findings at a time."""
    keys = [key for key, _, _ in ISSUE_HEADERS]
    row = pl.col("row")
    cells = [yuan_cell(pl.col("amount_fen"), col, row, style) if key == "amount" else
             text_cell(pl.col(key).cast(pl.String), col, row, style)
             for col, (key, style) in enumerate(zip(keys, styles, strict=True))]
    xml = row_xml(row, 15 * _lines(pl.col("title"), ISSUE_HEADERS[keys.index("title")][2]), cells).alias("xml")
    data = within_limit(data, [k for k in keys if k != "amount"])
    counts = dict(data.group_by("street").len().iter_rows())
    batches: list[list[str]] = [[]]
    n = 0
    for street in streets:
        if n and n + counts[street] > BATCH_ROWS:
            batches.append([])
            n = 0
        batches[-1].append(street)
        n += counts[street]
    sheet, dimension = 2, f"A1:{column_letter(width - 1)}{{}}"
    for batch in batches:
        rows = (data.filter(pl.col("street").is_in(batch))
                .with_columns(row=(pl.int_range(pl.len()).over("street") + 2).cast(pl.String)).select("street", xml))
        joined = dict(rows.group_by("street").agg(pl.col("xml").str.join("")).iter_rows())
        for street in batch:
            yield f"xl/worksheets/sheet{sheet}.xml", dimension.format(counts[street] + 1), joined[street]
            sheet += 1
