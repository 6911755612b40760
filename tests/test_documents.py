"""The documents people print: issues.xlsx print setup and summary, report drawings inside their frame,
the office report's charts and scorecard, the dossier's drawing and evidence tables."""

from __future__ import annotations


import polars as pl
from openpyxl import load_workbook

from auditor.reporting.issues_xlsx import fill_programs, write_issues_xlsx
from tests.followup_helpers import PID_A, PID_B, finding


def issues(tmp_path, *rows):
    path = tmp_path / "issues.xlsx"
    frame = pl.DataFrame(list(rows)).with_columns(pl.col("amount_fen").cast(pl.Int64), status=pl.lit("新发现"))
    write_issues_xlsx(frame, path, month="2026-10", district="长宁区")
    return load_workbook(path)


def test_issues_xlsx_prints_landscape_one_page_wide_with_the_header_repeated(tmp_path):
    wb = issues(tmp_path, finding(PID_A), finding(PID_B, street="江苏路街道"))
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    street = wb["华阳路街道"]
    assert street.print_title_rows == "$1:$1" and wb["汇总"].print_title_rows == "$3:$3"
    header = [c.value for c in street[1]]
    title = street.cell(2, header.index("问题描述") + 1)
    assert title.alignment.wrap_text and street.row_dimensions[2].height >= 15


def test_issues_summary_has_totals_links_and_the_district_sheet_last(tmp_path):
    district = finding("310105199001010099", street=None, amount=50000, rule="D02")
    wb = issues(tmp_path, finding(PID_A, street="江苏路街道"), district, finding(PID_B, street="华阳路街道"))
    assert wb.sheetnames == ["汇总", "华阳路街道", "江苏路街道", "区级"]
    rows = list(wb["汇总"].iter_rows(min_row=4))
    assert [r[0].value for r in rows] == ["华阳路街道", "江苏路街道", "区级", "合计"]
    assert rows[-1][1].value == 3 and float(rows[-1][5].value) == 2900.00
    assert [r[6].hyperlink.location for r in rows[:3]] == [
        "'华阳路街道'!A1", "'江苏路街道'!A1", "'区级'!A1"]


def test_done_on_takes_dates_and_verification_a_choice(tmp_path):
    ws = issues(tmp_path, finding(PID_A))["华阳路街道"]
    header = [c.value for c in ws[1]]
    col = ws.cell(1, header.index("完成日期") + 1).column_letter
    kinds = {dv.type: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert kinds["date"] == f"{col}2" and "list" in kinds


def test_programs_come_from_the_cases_the_evidence_names(tmp_path):
    c01 = finding(PID_A, rule="C01", evidence={"nodes": [{"id": "C:CN1"}, {"id": "C:CN2"}], "paid": "1.00"})
    e06 = finding(PID_B, rule="E06", evidence={"cases": [{"case_id": "CN3", "program": "tekun"}]})
    k01 = finding("310105199001010011", rule="K01", evidence={"cases": ["CN1"]})
    frame = pl.DataFrame([c01, e06, k01]).with_columns(program=pl.lit(None, pl.String))
    cases = pl.DataFrame({"case_id": ["CN1", "CN2", "CN3"], "program": ["dibao", "tekun", "tekun"]})
    filled = dict(fill_programs(frame, cases).select("rule", "program").iter_rows())
    assert filled == {"C01": "dibao,tekun", "E06": "tekun", "K01": "dibao"}
    ws = issues(tmp_path, *fill_programs(frame, cases).to_dicts())["华阳路街道"]
    header = [c.value for c in ws[1]]
    programs = {r[header.index("规则")]: r[header.index("救助类型")] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert programs == {"C01": "低保、特困", "E06": "特困", "K01": "低保"}
