"""The documents people print: issues.xlsx print setup and summary, report drawings inside their frame,
the office report's charts and scorecard, the dossier's drawing and evidence tables."""

from __future__ import annotations

import re

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
        # fitToWidth left out means 1 (the OOXML default; xlsxwriter writes only non-defaults)
        assert (ws.page_setup.fitToWidth or 1) == 1 and ws.page_setup.fitToHeight == 0
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


def _view_box(svg: str) -> tuple[float, float, float, float]:
    x, y, w, h = map(float, re.search(r'viewBox="([^"]+)"', svg).group(1).split())
    return x, y, x + w, y + h


def test_drawing_keeps_every_label_inside_its_frame_and_spreads_parallel_labels():
    from auditor.reporting.drawings import render_svg, text_width

    nodes = [{"id": "A:6222", "label": "账户 622202*********2759"},
             {"id": "S:S0080", "label": "工作人员 丁红华 (仙霞新村街道 经办人 S0080)"},
             {"id": "P:1", "label": "高桂霞 (310105…5397)"}]
    edges = [{"source": "A:6222", "target": "S:S0080", "label": "代管人"},
             {"source": "S:S0080", "target": "A:6222", "label": "开户人"},  # the other way round
             {"source": "P:1", "target": "A:6222", "label": "收款账户"}]
    svg = str(render_svg(nodes, edges, width=900))
    x0, y0, x1, y1 = _view_box(svg)
    assert 'width="100%"' in svg
    texts = re.findall(r'<text x="([-\d.]+)" y="([-\d.]+)"[^>]*text-anchor="middle"[^>]*>([^<]*)</text>', svg)
    assert len(texts) == 6
    for x, y, label in texts:
        half = text_width(label) / 2
        assert x0 <= float(x) - half and float(x) + half <= x1 and y0 <= float(y) - 11 and float(y) <= y1, label
    spots = {label: (float(x), float(y)) for x, y, label in texts}
    (ax, ay), (bx, by) = spots["代管人"], spots["开户人"]
    assert ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 >= 12  # parallel labels apart


def test_office_report_has_charts_formula_and_ranks_a_street_that_closed_nothing_last(db_url):
    from datetime import date

    from auditor import store
    from auditor.followup import workflow
    from auditor.followup.office import SCORE_FORMULA, build_office_report, render_office_report
    from tests.followup_helpers import save

    engine = store.connect(db_url)
    idle = [finding(f"31010519900101{n:04d}", street="江苏路街道") for n in range(3)]
    busy = [finding(f"31010519800101{n:04d}", street="华阳路街道") for n in range(10)]
    save(engine, "2026-10", *idle, *busy)
    fid = busy[0]["finding_id"]
    workflow.assign(engine, fid, street="华阳路街道", person="张", due=date(2026, 10, 1), actor="a")
    workflow.close(engine, fid, "confirmed", actor="a", recovered_fen=120000)  # closed late, money back
    report = build_office_report(engine, "2026-10", district="长宁区", today=date(2026, 11, 20))
    engine.dispose()
    order = [s.street for s in report.scorecard]
    assert order.index("华阳路街道") < order.index("江苏路街道")
    html = render_office_report(report)
    assert SCORE_FORMULA in html and html.count('class="chart"') == 3
    for label in ("各月问题数", "街镇对比", "未结案账龄"):
        assert f'aria-label="{label}"' in html


def test_dossier_draws_the_relationship_and_shows_evidence_as_tables(db_url, tmp_path, capsys):
    from auditor import store
    from tests.followup_helpers import add_users, as_user, run_cli, save

    ev = {"person_id": PID_A, "bank_account": "6222021000000002759", "programs": ["dibao"],
          "paid_rows": [{"txn_id": "T1", "amount": "100.00", "paid_on": "2026-10-08"}],
          "nodes": [{"id": f"P:{PID_A}", "label": "高桂霞 (310105…1234)"}, {"id": "A:6222021000000002759",
                                                                          "label": "账户 6222021000000002759"}],
          "edges": [{"source": f"P:{PID_A}", "target": "A:6222021000000002759", "label": "收款账户"}]}
    row = finding(PID_A, rule="C02", evidence=ev)
    engine = store.connect(db_url)
    save(engine, "2026-10", row)
    engine.dispose()
    add_users(db_url)
    out = tmp_path / "d.html"
    assert run_cli(capsys, "findings", "dossier", row["finding_id"], "--out", str(out), *as_user(db_url, "ivy"))[0] == 0
    html = out.read_text(encoding="utf-8")
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="graph"' in html and "收款账户" in html
    assert "<th>银行账号</th><td>622202*********2759</td>" in html and "<th>救助类型</th><td>低保</td>" in html
    assert "<p><b>支付记录</b></p>" in html and "<th>流水号</th>" in html  # a list of records is a table
    assert '"paid_rows"' not in html and "dibao" not in html and "6222021000000002759" not in html


def test_the_monthly_report_is_stamped_in_beijing_time(demo_run):
    _, result, _ = demo_run
    html = (result.out_dir / "report.html").read_text(encoding="utf-8")
    assert re.search(r"生成时间：\d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", html)


def test_evidence_codes_are_shown_as_chinese_labels():
    from auditor.reporting.labels import evidence_view

    view = evidence_view({"basis": "minor", "program": "tekun", "status": "suspended"})
    assert view["fields"] == [("认定依据", "未成年"), ("救助类型", "特困"), ("状态", "暂停")]


def test_issues_amounts_keep_their_fen(tmp_path):
    wb = issues(tmp_path, finding(PID_A, amount=1234), finding(PID_B, amount=-5))
    street = wb["华阳路街道"]
    header = [c.value for c in street[1]]
    amounts = sorted(r[header.index("涉及金额(元)")] for r in street.iter_rows(min_row=2, values_only=True))
    assert amounts == [-0.05, 12.34]
    assert wb["汇总"].cell(4, 6).value == 12.29 and wb["汇总"].cell(4, 6).number_format == "#,##0.00"


def _wrapped(text: str | None, width: int) -> int:
    """The row-height rule by hand: a character above U+2E80 (Chinese) is two wide."""
    shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text or "")
    return max(1, -(-shown // max(width - 2, 1)))


def test_issue_rows_are_as_tall_as_their_wrapped_description(tmp_path):
    from auditor.reporting.issues_xlsx import _lines

    texts = [None, "", "a" * 38, "a" * 39, "审" * 19, "审" * 20, "\u2e80" * 39, "\u2e81" * 20, "😀x" * 30,
             "案件C1（310…1234）2026-10 已满13个月，超期发放2个月共2,400.00元" * 3]
    got = pl.DataFrame({"t": texts}, schema={"t": pl.String}).select(_lines(pl.col("t"), 40))[:, 0].to_list()
    assert got == [_wrapped(t, 40) for t in texts]
    long = "请核查" * 40
    wb = issues(tmp_path, finding(PID_A) | {"title": long}, finding(PID_B) | {"title": "短"})
    street = wb["华阳路街道"]
    header = [c.value for c in street[1]]
    heights = {street.cell(r, header.index("问题描述") + 1).value: (street.row_dimensions[r].height or 15)  # 15: the default, not written
               for r in (2, 3)}
    assert heights == {long: 15 * _wrapped(long, 40), "短": 15}
    assert 15 * _wrapped(long, 40) > 15
