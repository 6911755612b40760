"""Rows made by polars expressions (``auditor.reporting.xlsx_rows``) are the cells xlsxwriter writes, and the
问题清单 built from them reads back as the findings it was given."""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal

import polars as pl
import xlsxwriter
from openpyxl import load_workbook

from auditor.reporting.issues_xlsx import write_issues_xlsx
from auditor.reporting.xlsx_rows import MAX_CHARS, column_letter, row_xml, text_cell, within_limit, yuan_cell
from tests.followup_helpers import PID_A, PID_B, finding

TEXTS = ["plain", "=1+1", "+86", "-3", "@SUM(A1)", "a & b <c> \"d\"", " lead", "trail ", "\u3000全角", "末尾\u00a0",
         "tab\tin", "\tlead tab", "new\nline\n", "ctl\x01\x1f", "\x0bvt", "_x0041_ and _x00ZZ_", "\ufffe\uffff",
         "emoji 😀", "中文问题描述", "x" * (MAX_CHARS + 5), "😀" * (MAX_CHARS // 2 + 3)]
FEN = [0, 1, 10, 100, -5, -100, 123450, 123456, 99_999_999_999, -250_000_007]


def _xlsxwriter_cells(tmp_path, texts: list[str], numbers: list[float]) -> list[str]:
    """The ``<c>`` elements xlsxwriter (constant memory) writes for ``texts`` then ``numbers`` in column A."""
    path = tmp_path / "ref.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    fmt = wb.add_format({"valign": "top"})
    ws = wb.add_worksheet()
    ws.set_column(0, 0, 10, fmt)
    for row, text in enumerate(texts):
        ws.write_string(row, 0, text, fmt)
    for row, number in enumerate(numbers, start=len(texts)):
        ws.write_number(row, 0, number, fmt)
    wb.close()
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    return [re.sub(r' s="\d+"', ' s="S"', c) for c in re.findall(r"<c .*?</c>", xml, re.S)]


def test_cells_are_written_as_xlsxwriter_writes_them(tmp_path):
    expected = _xlsxwriter_cells(tmp_path, TEXTS, [float(Decimal(f) / 100) for f in FEN])
    texts = within_limit(pl.DataFrame({"t": TEXTS}), ["t"]).with_columns(row=pl.int_range(1, len(TEXTS) + 1)
                                                                          .cast(pl.String))
    got = texts.select(text_cell(pl.col("t"), 0, pl.col("row"), 0))[:, 0].to_list()
    fen = pl.DataFrame({"f": FEN}).with_columns(row=pl.int_range(len(TEXTS) + 1, len(TEXTS) + len(FEN) + 1)
                                                 .cast(pl.String))
    got += fen.select(yuan_cell(pl.col("f"), 0, pl.col("row"), 0))[:, 0].to_list()
    assert [c.replace(' s="0"', ' s="S"') for c in got] == expected


def test_empty_and_null_values_write_no_cell_and_rows_carry_their_height():
    frame = pl.DataFrame({"t": ["", None, "x"], "f": [None, None, 5]}, schema={"t": pl.String, "f": pl.Int64})
    row = pl.lit("7")
    cells = frame.select(row_xml(row, pl.Series([15, 30, 45]), [text_cell(pl.col("t"), 1, row, 3),
                                                                 yuan_cell(pl.col("f"), 27, row, 4)]))[:, 0]
    assert cells.to_list() == ['<row r="7"></row>', '<row r="7" ht="30" customHeight="1"></row>',
                               '<row r="7" ht="45" customHeight="1"><c r="B7" s="3" t="inlineStr"><is><t>x</t></is>'
                               '</c><c r="AB7" s="4"><v>0.05</v></c></row>']
    assert [column_letter(c) for c in (0, 13, 25, 26, 701, 702)] == ["A", "N", "Z", "AA", "ZZ", "AAA"]


def test_issue_sheets_read_back_as_the_findings_in_sheet_order(tmp_path, monkeypatch):
    import auditor.reporting.issues_xlsx as issues_xlsx

    monkeypatch.setattr(issues_xlsx, "BATCH_ROWS", 2)  # several batches, one street alone in its own
    titles = ["<r>not rich</r>", "=HYPERLINK(\"x\")", "a\x02b", "长" * 60]
    rows = [finding(PID_A, street="江苏路街道", amount=-1200, rule="R01") | {"title": titles[0]},
            finding(PID_B, street="江苏路街道", amount=None, rule="R02") | {"title": titles[1]},
            finding(PID_A, street="华阳路街道", amount=5, rule="R03") | {"title": titles[2]},
            finding(PID_B, street="江苏路街道", amount=100, rule="R04") | {"title": titles[3]},
            finding(PID_B, street=None, amount=7, rule="D02")]
    frame = pl.DataFrame(rows).with_columns(pl.col("amount_fen").cast(pl.Int64), status=pl.lit("新发现"))
    path = tmp_path / "issues.xlsx"
    write_issues_xlsx(frame, path, month="2026-10", district="长宁区")
    wb = load_workbook(path)
    assert wb.sheetnames == ["汇总", "华阳路街道", "江苏路街道", "区级"]
    street = wb["江苏路街道"]
    header = [c.value for c in street[1]]
    got = [dict(zip(header, (c.value for c in r), strict=False)) for r in street.iter_rows(min_row=2)]
    assert [(g["规则"], g["涉及金额(元)"], g["问题描述"]) for g in got] == [
        ("R01", -12, titles[0]), ("R02", None, titles[1]), ("R04", 1, titles[3])]
    assert all(c.data_type == "s" for r in street.iter_rows(min_row=2) for c in r if isinstance(c.value, str))
    assert street.dimensions == "A1:S4" and street.auto_filter.ref == "A1:S4"
    assert street.row_dimensions[4].height == 60 and street.row_dimensions[2].height is None
    assert wb["华阳路街道"]["M2"].value == "a_x0002_b"  # Excel's escape of \x02, shown as written by openpyxl
    assert wb["区级"]["L2"].value == 0.07


def test_no_findings_make_a_summary_sheet_alone(tmp_path):
    frame = pl.DataFrame([finding(PID_A)]).with_columns(pl.col("amount_fen").cast(pl.Int64)).clear()
    write_issues_xlsx(frame, tmp_path / "issues.xlsx", month="2026-10", district="长宁区")
    wb = load_workbook(tmp_path / "issues.xlsx")
    assert wb.sheetnames == ["汇总"] and wb["汇总"]["A1"].value == "长宁区 2026-10 社会救助资金审计问题清单"
