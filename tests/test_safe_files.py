"""Files that are safe to open: no live formula, owner-only permissions, ids never paths, UTF-8 with BOM."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from auditor import store
from auditor.cli.main import main
from auditor.core.cells import safe_cell, safe_frame, write_safe_csv
from tests.followup_helpers import ACCOUNT, PID_A, add_users, as_user, finding, run_cli, save
from tests.rulecases import write_case

EVIL = "=HYPERLINK(\"http://x\",\"点我\")"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_safe_cell_keeps_formula_like_text_readable_and_leaves_amounts():
    assert [safe_cell(v) for v in ("=1+1", "+86", "-x", "@SUM(A1)", "\tx", "\rx", "张三", "", 5, None)] == [
        "'=1+1", "'+86", "'-x", "'@SUM(A1)", "'\tx", "'\rx", "张三", "", 5, None]
    frame = pl.DataFrame({"name": ["=1+1", "李"], "amount": ["-12.00", "3.00"], "n": [-1, 2]})
    assert safe_frame(frame, keep=["amount"]).rows() == [("'=1+1", "-12.00", -1), ("李", "3.00", 2)]


def test_csv_is_utf8_with_bom_and_owner_only(tmp_path):
    path = write_safe_csv(pl.DataFrame({"街镇": ["@华阳路街道"], "amount": ["-1.00"]}), tmp_path / "x.csv",
                          keep=["amount"])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and mode(path) == 0o600
    with open(path, encoding="utf-8-sig") as f:
        assert list(csv.DictReader(f)) == [{"街镇": "'@华阳路街道", "amount": "-1.00"}]


@pytest.fixture
def evil_drop(tmp_path):
    """A drop whose names and streets start with formula characters."""
    d = tmp_path / "drop"
    d.mkdir()
    write_case(d, {"tables": {
        "staff": [{"staff_id": "S7", "person_id": "@cadre", "name": EVIL, "role": "cadre", "street": "华阳路街道"}],
        "cases": [{"case_id": "C1", "payee_id": "@mum", "street": "华阳路街道"}],
        "members": [{"case_id": "C1", "person_id": "@mum", "name": "+李秀英"}],
        "ledger": [{"payee_id": "@mum", "case_id": "C1"}],
        "relations": [{"person_id": "@cadre", "relative_id": "@mum", "relation": "parent"}],
        "kin_filings": [], "custody_filings": [], "accounts": [],
        "dishonesty": [{"record_id": "D1", "person_id": "@x", "name": EVIL, "recorded_on": "2026-03-01",
                        "reason": "-骗取", "amount_defrauded": "100.00", "amount_recovered": "0"}],
    }}, {})
    return d


def test_dishonesty_list_has_no_live_formula_and_is_owner_only(evil_drop, tmp_path, users_db):
    out = tmp_path / "pub"
    assert main(["dishonesty", "--month", "2026-10", "--data", str(evil_drop), "--out", str(out),
                 *as_user(users_db, "alice")]) == 0
    ws = load_workbook(out / "dishonesty-2026-10.xlsx").active
    cells = [c for row in ws.iter_rows(min_row=3) for c in row if c.value is not None]
    assert EVIL in [c.value for c in cells] and all(c.data_type != "f" for c in cells)
    with open(out / "dishonesty-2026-10.csv", encoding="utf-8-sig") as f:
        row = next(csv.DictReader(f))
    assert row["姓名"] == "'" + EVIL and row["失信原因"] == "'-骗取" and row["骗取金额(元)"] == "100.00"
    assert mode(out / "dishonesty-2026-10.csv") == 0o600 and mode(out / "dishonesty-2026-10.xlsx") == 0o600


def test_graph_staff_id_never_becomes_a_path(evil_drop, tmp_path, users_db, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "escape"
    code = main(["graph", "--staff", f"../../../..{target}/x", "--data", str(evil_drop), "--month", "2026-10",
                 *as_user(users_db, "alice")])
    assert code == 2  # unknown staff id: nothing written anywhere
    assert not target.exists()
    (evil_drop / "staff.csv").unlink()
    write_case(evil_drop, {"tables": {"staff": [{"staff_id": "../../../../tmp/i14-x", "person_id": "@cadre",
                                                 "name": "王", "street": "华阳路街道"}]}}, {})
    assert main(["graph", "--staff", "../../../../tmp/i14-x", "--data", str(evil_drop), "--month", "2026-10",
                 *as_user(users_db, "alice")]) == 0
    written = list((tmp_path / "out" / "2026-10").iterdir())
    assert [p.name for p in written] == ["graph-tmp_i14-x.html"] and not Path("/tmp/i14-x.html").exists()
    assert mode(written[0]) == 0o600 and mode(tmp_path / "out") == 0o700


def test_run_outputs_and_sqlite_store_are_owner_only(demo_run):
    _, result, base = demo_run
    assert mode(result.out_dir) == 0o700
    for name in ("findings.csv", "quarantine.csv", "sample.csv", "issues.xlsx", "report.html", "run.json"):
        assert mode(result.out_dir / name) == 0o600, name
    for name in ("findings.csv", "quarantine.csv", "sample.csv"):
        assert (result.out_dir / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    for f in base.glob("auditor.db*"):  # the store, its WAL files and the folder of its lock files
        assert mode(f) == (0o700 if f.is_dir() else 0o600), f.name


def test_store_files_are_created_owner_only(tmp_path):
    engine = store.connect(f"sqlite:///{tmp_path / 'new' / 's.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("select 1")
    files = list((tmp_path / "new").iterdir())
    assert files and all(mode(f) == (0o700 if f.is_dir() else 0o600) for f in files)
    assert mode(tmp_path / "new") == 0o700
    engine.dispose()


def test_issues_xlsx_text_is_never_a_formula_and_amounts_stay_numbers(tmp_path):
    from auditor.reporting.issues_xlsx import write_issues_xlsx

    row = finding(PID_A, street="=华阳路街道", amount=-1200) | {"title": "@SUM(A1) 无指令支付", "status": "new"}
    frame = pl.DataFrame([row]).with_columns(pl.col("amount_fen").cast(pl.Int64))
    path = tmp_path / "issues.xlsx"
    write_issues_xlsx(frame, path, month="2026-10", district="长宁区")
    wb = load_workbook(path)
    cells = [c for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.value is not None]
    assert all(c.data_type != "f" for c in cells if isinstance(c.value, str) and not c.hyperlink)
    street = wb.worksheets[1]
    values = [c.value for c in street[2]]
    assert "@SUM(A1) 无指令支付" in values and -12 in values and mode(path) == 0o600


def test_findings_list_csv_is_sanitised_with_bom(db_url, capsys, tmp_path):
    engine = store.connect(db_url)
    save(engine, "2026-10", finding(PID_A, street="+华阳路街道", amount=-500))
    engine.dispose()
    add_users(db_url)
    out = tmp_path / "list.csv"
    assert run_cli(capsys, "findings", "list", "--csv", str(out), *as_user(db_url, "ivy"))[0] == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and mode(out) == 0o600
    with open(out, encoding="utf-8-sig") as f:
        row = next(csv.DictReader(f))
    assert row["street"] == "'+华阳路街道" and row["amount"] == "-5.00" and ACCOUNT not in raw.decode("utf-8")
