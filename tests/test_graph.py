"""Relationship model: address matching, close relatives, evidence paths, drawings, look-up commands."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import polars as pl
import pytest

from auditor.cli.main import main
from auditor.core.config import load_profile
from auditor.core.masking import mask_value
from auditor.engine.context import AuditContext
from auditor.engine.relations import close_pairs_of
from auditor.ingest.loader import load_drop
from auditor.reporting.drawings import render_svg
from tests.followup_helpers import as_user
from tests.rulecases import person, run_case, write_case

HOME = "上海市长宁区长宁路 100 弄 5 号 301 室"
DOC = {"rule": "K03", "month": "2026-10", "tables": {
    "staff": [{"staff_id": "S1", "person_id": "@cadre", "name": "王芳", "role": "cadre", "address": HOME}],
    "cases": [{"case_id": "C1", "payee_id": "@m"}],
    "relations": [],
}}


@pytest.mark.parametrize("address", ["长宁路100弄5号301室", "长宁路１００弄５号３０１室", "长宁路100弄5号301",
                                     "上海长宁区长宁路100弄5号301室", "长宁路100弄5号301户", "长宁路100弄5幢301室"])
def test_one_dwelling_written_differently_matches(tmp_path, address):
    case = {"tables": {"members": [{"case_id": "C1", "person_id": "@m", "address": address}]}}
    findings, _ = run_case(tmp_path, DOC, case)
    assert findings["person_id"].to_list() == [person("@m")]


@pytest.mark.parametrize("address", ["长宁路100弄5号302室", "长宁路100弄6号301室", "长宁路101弄5号301室",
                                     "安化路100弄5号301室", "长宁路100弄5号3011室"])
def test_neighbouring_dwellings_do_not_match(tmp_path, address):
    case = {"tables": {"members": [{"case_id": "C1", "person_id": "@m", "address": address}]}}
    findings, _ = run_case(tmp_path, DOC, case)
    assert findings.height == 0


def _ctx(tmp_path, tables: dict, **params) -> AuditContext:
    month = write_case(tmp_path, {"tables": tables}, {})
    profile = load_profile(None).model_copy(update=params) if params else load_profile(None)
    return AuditContext(month=month, profile=profile, drop=load_drop(tmp_path, profile))


def test_close_relatives_read_in_both_directions_and_widen(tmp_path):
    rel = [{"person_id": "@a", "relative_id": "@b", "relation": "parent"},
           {"person_id": "@a", "relative_id": "@c", "relation": "cousin"},
           {"person_id": "@d", "relative_id": "@a", "relation": "child_in_law"}]
    a, b, d = person("@a"), person("@b"), person("@d")
    ctx = _ctx(tmp_path, {"relations": rel})
    pairs = {(r["person_id"], r["relative_id"], r["relation"])
             for r in close_pairs_of(ctx, pl.Series([a, b, d])).iter_rows(named=True)}
    assert pairs == {(a, b, "parent"), (b, a, "child")}
    only_b = close_pairs_of(ctx, pl.Series([b]))  # pairs of the given people only
    assert only_b.rows() == [(b, a, "child")]
    wide = close_pairs_of(_ctx(tmp_path, {"relations": rel}, close_relations=["parent", "child", "parent_in_law"]),
                          pl.Series([a, d]))
    got = {(r["person_id"], r["relative_id"], r["relation"]) for r in wide.iter_rows(named=True)}
    assert (a, d, "parent_in_law") in got and (d, a, "child_in_law") in got


def test_evidence_carries_readable_path_and_structure(tmp_path):
    doc = {"rule": "K01", "tables": {
        "staff": [{"staff_id": "S0012", "person_id": "@cadre", "name": "王芳", "role": "cadre",
                   "street": "天山路街道"}],
        "cases": [{"case_id": "CN2026-00312", "payee_id": "@wife", "street": "天山路街道"}],
        "members": [{"case_id": "CN2026-00312", "person_id": "@wife", "name": "李梅"}],
        "relations": [{"person_id": "@wife", "relative_id": "@cadre", "relation": "spouse"}],
        "kin_filings": []}}
    findings, _ = run_case(tmp_path, doc, {})
    ev = json.loads(findings["evidence"][0])
    wife = person("@wife")
    assert ev["paths"] == [f"工作人员 王芳 (天山路街道 村居干部 S0012) —配偶→ 李梅 ({wife[:6]}…{wife[-4:]}) "
                           "—成员→ 案件 CN2026-00312 (低保 天山路街道)"]
    assert [n["id"] for n in ev["nodes"]] == ["S:S0012", f"P:{wife}", "C:CN2026-00312"]
    assert ev["edges"] == [{"source": "S:S0012", "target": f"P:{wife}", "label": "配偶"},
                           {"source": f"P:{wife}", "target": "C:CN2026-00312", "label": "成员"}]


def test_svg_is_inline_and_escaped():
    svg = str(render_svg([{"id": "S:S1", "label": "工作人员 <王>"}, {"id": "P:1", "label": "李某"}],
                         [{"source": "S:S1", "target": "P:1", "label": "配偶"}]))
    assert svg.startswith("<svg") and svg.count("<circle") == 2 and "&lt;王&gt;" in svg
    assert "href" not in svg and "<script" not in svg


def test_demo_report_has_relations_section(demo_run):
    _, result, _ = demo_run
    html = (result.out_dir / "report.html").read_text(encoding="utf-8")
    section = html[html.index("关系线索"):]
    assert "<svg" in section and "—成员→" in section


@pytest.fixture
def drop(tmp_path):
    d = tmp_path / "drop"
    d.mkdir()
    write_case(d, {"tables": {
        "staff": [{"staff_id": "S7", "person_id": "@cadre", "name": "王芳", "role": "cadre"}],
        "cases": [{"case_id": "C1", "payee_id": "@mum"}],
        "members": [{"case_id": "C1", "person_id": "@mum", "name": "李秀英", "phone": "13900000001"},
                    {"case_id": "C1", "person_id": "@dad", "name": "王建国", "relation_to_payee": "spouse"}],
        "ledger": [{"payee_id": "@mum", "case_id": "C1"}],
        "relations": [{"person_id": "@cadre", "relative_id": "@mum", "relation": "parent"}],
        "kin_filings": [], "custody_filings": [], "accounts": [],
        "dishonesty": [
            {"record_id": "D1", "person_id": "@x", "name": "甲", "recorded_on": "2026-03-01",
             "amount_defrauded": "1,234.56", "amount_recovered": "234.50"},
            {"record_id": "D2", "person_id": "@y", "name": "乙", "recorded_on": "2024-03-01",
             "restricted_until": "2026-09-30", "amount_defrauded": "100.00", "amount_recovered": "0"},
            {"record_id": "D3", "person_id": "@z", "name": "丙", "recorded_on": "2026-11-01"},
            {"record_id": "D4", "person_id": "@w", "name": "丁", "recorded_on": "2025-01-01",
             "restricted_until": "2026-10-01", "amount_defrauded": "500.00", "amount_recovered": "500.00"}],
    }}, {})
    return d


def test_graph_command_by_staff(drop, tmp_path, users_db):
    out = tmp_path / "g.html"
    assert main(["graph", "--staff", "S7", "--data", str(drop), "--month", "2026-10", "--out", str(out),
                 *as_user(users_db, "ivy")]) == 0
    html = out.read_text(encoding="utf-8")
    for text in ("王芳", "李秀英", "C1", "<svg", "K01", "近亲属受助未备案", mask_value(person("@mum"))):
        assert text in html, text
    assert person("@mum") not in html and "13900000001" not in html  # masked unless asked for
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert main(["graph", "--staff", "S7", "--data", str(drop), "--month", "2026-10", "--out", str(out),
                 "--unmasked", *as_user(users_db, "ivy")]) == 0
    assert person("@mum") in out.read_text(encoding="utf-8")


def test_graph_command_by_person_and_unknown(drop, tmp_path, capsys, users_db):
    out = tmp_path / "p.html"
    who = as_user(users_db, "alice")
    assert main(["graph", "--person", person("@dad"), "--data", str(drop), "--month", "2026-10",
                 "--out", str(out), *who]) == 0
    html = out.read_text(encoding="utf-8")
    assert "王建国" in html and "C1" in html
    assert main(["graph", "--person", person("@mum"), "--data", str(drop), "--month", "2026-10",
                 "--out", str(out), *who]) == 0
    html = out.read_text(encoding="utf-8")  # names looked up for the neighbourhood only
    assert "王芳 (" in html and "李秀英 (" in html and "未知姓名" not in html
    assert main(["graph", "--person", person("@nobody"), "--data", str(drop), "--month", "2026-10",
                 "--out", str(out), *who]) == 2
    assert "未出现" in capsys.readouterr().err


def test_dishonesty_command_writes_active_list(drop, tmp_path, users_db):
    from openpyxl import load_workbook

    out = tmp_path / "pub"
    assert main(["dishonesty", "--month", "2026-10", "--data", str(drop), "--out", str(out),
                 *as_user(users_db, "ole")]) == 0
    with open(out / "dishonesty-2026-10.csv", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["记录编号"] for r in rows] == ["D4", "D1"]
    d1 = rows[1]
    assert (d1["骗取金额(元)"], d1["已追回金额(元)"], d1["未追回金额(元)"], d1["追回状态"]) == \
        ("1234.56", "234.50", "1000.06", "部分追回")
    assert rows[0]["未追回金额(元)"] == "0.00" and rows[0]["追回状态"] == "已全部追回"
    ws = load_workbook(out / "dishonesty-2026-10.xlsx").active
    header = [c.value for c in ws[2]]
    values = {r[0]: dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=3, values_only=True)}
    assert set(values) == {"D1", "D4"}
    assert Decimal(str(values["D1"]["未追回金额(元)"])) == Decimal("1000.06")


def test_dishonesty_command_without_table(tmp_path, users_db):
    d = tmp_path / "drop"
    d.mkdir()
    write_case(d, {"tables": {}}, {})
    assert main(["dishonesty", "--month", "2026-10", "--data", str(d), "--out", str(tmp_path),
                 *as_user(users_db, "alice")]) == 2
