"""Loading messy real-world drops: encodings, Chinese headers, Excel, Parquet, bad rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest
from openpyxl import Workbook

from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.ingest.loader import load_drop
from auditor.ingest.schema import TABLES
from tests.rulecases import person

PROFILE = load_profile(None)
A, B = person("@A"), person("@B")
BAD_CHECKSUM = A[:-1] + ("0" if A[-1] != "0" else "1")

LEDGER_ZH = ["流水号", "案件编号", "收款人身份证号", "救助类型", "所属月份", "支付金额", "收款账号", "支付日期", "街镇", "支付状态"]


def write_minimal(tmp, **override: str) -> None:
    """A valid drop of the four required tables (CSV, English headers), overridable per table."""
    files = {
        "cases.csv": "case_id,program,payee_id,street,status,start_month,monthly_amount\n"
                     f"C1,dibao,{A},华阳路街道,active,2026-01,1200.00\n",
        "members.csv": f"case_id,person_id,name\nC1,{A},张三\n",
        "payments.csv": "payment_id,case_id,payee_id,program,month,amount,bank_account,street\n"
                        f"P1,C1,{A},dibao,2026-10,1200.00,6222000000000001,华阳路街道\n",
        "ledger.csv": "txn_id,case_id,payee_id,program,month,amount,bank_account,paid_on,street,status\n"
                      f"T1,C1,{A},dibao,2026-10,1200.00,6222000000000001,2026-10-05,华阳路街道,paid\n",
    }
    for name, text in {**files, **override}.items():
        (tmp / name).write_text(text, encoding="utf-8")


def test_gbk_csv_with_chinese_headers_and_messy_values(tmp_path):
    write_minimal(tmp_path)
    (tmp_path / "ledger.csv").unlink()
    rows = [
        ",".join(LEDGER_ZH),
        f'T1,C1,{A},低保,2026年10月,"1,234.50元",6222 0000-0000 0001,2026年10月05日,华阳路街道,成功',
        f"T2,,{B.lower()},特困,202610,１２３４．５,6222000000000002,2026/10/06,华阳路街道,退回",
        f"T3,,{BAD_CHECKSUM},低保,2026-10,100,6222000000000003,20261007,华阳路街道,成功",
    ]
    (tmp_path / "ledger.csv").write_bytes("\n".join(rows).encode("gbk"))
    drop = load_drop(tmp_path, PROFILE)
    ledger = drop.tables["ledger"].sort("txn_id")
    assert ledger["amount"].to_list() == [123450, 123450]
    assert ledger["month"].to_list() == ["2026-10", "2026-10"]
    assert ledger["paid_on"].to_list() == [date(2026, 10, 5), date(2026, 10, 6)]
    assert ledger["bank_account"].to_list() == ["6222000000000001", "6222000000000002"]
    assert ledger["program"].to_list() == ["dibao", "tekun"]
    assert ledger["status"].to_list() == ["paid", "returned"]
    assert drop.stats["ledger"].read == 3 and drop.stats["ledger"].quarantined == 1
    q = drop.quarantine.row(0, named=True)
    assert (q["table"], q["source_row"], q["column"], q["value"]) == ("ledger", 3, "payee_id", BAD_CHECKSUM)
    assert "校验位" in q["reason"]


def test_utf8_bom_and_gb18030(tmp_path):
    write_minimal(tmp_path)
    members = f"case_id,person_id,name\nC1,{A},𠮷张三\n"  # a character outside GBK's 2-byte range
    (tmp_path / "members.csv").write_bytes(members.encode("gb18030"))
    cases = (tmp_path / "cases.csv").read_text(encoding="utf-8")
    (tmp_path / "cases.csv").write_bytes(cases.encode("utf-8-sig"))
    drop = load_drop(tmp_path, PROFILE)
    assert drop.tables["members"]["name"].to_list() == ["𠮷张三"]
    assert drop.tables["cases"]["case_id"].to_list() == ["C1"]


def test_excel_cells_dates_numbers_and_sheet_named_after_table(tmp_path):
    write_minimal(tmp_path)
    (tmp_path / "payments.csv").unlink()
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["本文件由业务系统导出"])
    ws = wb.create_sheet("payments")
    ws.append([c.label for c in TABLES["payments"].columns if c.name != "small_amount"])
    ws.append(["P1", "C1", A, "低保", "2026-10", 1200.5, 622200000000001, "华阳路街道"])  # 15 digits: exact
    ws.append(["P2", "C1", A, "dibao", datetime(2026, 10, 1), 99, "6222000000000001", "华阳路街道"])
    wb.save(tmp_path / "payments.xlsx")
    drop = load_drop(tmp_path, PROFILE)
    p = drop.tables["payments"]
    assert p["amount"].to_list() == [120050]
    assert p["bank_account"].to_list() == ["622200000000001"]
    # an Excel date cell is not a month: quarantined, not guessed
    assert drop.quarantine.filter(pl.col("table") == "payments")["column"].to_list() == ["month"]


def test_typed_parquet_from_another_tool(tmp_path):
    write_minimal(tmp_path)
    (tmp_path / "ledger.csv").unlink()
    pl.DataFrame({
        "txn_id": ["T1"], "payee_id": [A], "program": ["dibao"], "month": ["2026-10"],
        "amount": [Decimal("1200.10")], "bank_account": ["6222000000000001"], "paid_on": [date(2026, 10, 5)],
        "street": ["华阳路街道"], "status": ["paid"], "note": ["extra column kept"],
    }).write_parquet(tmp_path / "ledger.parquet")
    drop = load_drop(tmp_path, PROFILE)
    ledger = drop.tables["ledger"]
    assert ledger["amount"].to_list() == [120010]
    assert ledger["paid_on"].to_list() == [date(2026, 10, 5)]
    assert drop.stats["ledger"].missing_columns == ["case_id"]
    assert ledger["case_id"].to_list() == [None]


def test_missing_required_table_names_the_table(tmp_path):
    write_minimal(tmp_path)
    (tmp_path / "ledger.csv").unlink()
    with pytest.raises(AuditInputError, match="ledger"):
        load_drop(tmp_path, PROFILE)


def test_missing_required_column_names_file_and_column(tmp_path):
    write_minimal(tmp_path, **{"payments.csv": "payment_id,case_id,payee_id,program,month,bank_account,street\n"})
    with pytest.raises(AuditInputError) as err:
        load_drop(tmp_path, PROFILE)
    assert "payments.csv" in str(err.value) and "amount" in str(err.value)


def test_two_files_for_one_table_are_refused(tmp_path):
    write_minimal(tmp_path)
    (tmp_path / "救助案件.csv").write_text((tmp_path / "cases.csv").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(AuditInputError, match="多个文件"):
        load_drop(tmp_path, PROFILE)


def test_unreadable_encoding_is_a_clear_error(tmp_path):
    write_minimal(tmp_path)
    (tmp_path / "members.csv").write_bytes(b"case_id,person_id,name\n\xff\xfe\xfa\xfb,\x81\n")
    with pytest.raises(AuditInputError, match="members.csv"):
        load_drop(tmp_path, PROFILE)


def test_every_bad_value_is_quarantined_with_its_reason_and_counts_add_up(tmp_path):
    write_minimal(tmp_path, **{
        "payments.csv": "payment_id,case_id,payee_id,program,month,amount,bank_account,street,small_amount\n"
                        f"P1,C1,{A},dibao,2026-13,1200.00,6222000000000001,华阳路街道,\n"
                        f"P2,C1,{A},dibao,2026-10,12.345,6222000000000001,华阳路街道,否\n"
                        f"P3,C1,{A},pension,2026-10,-5,6222000000000001,华阳路街道,也许\n"
                        f"P4,C1,{A},dibao,2026-10,5,6222000000000001,,是\n"
                        f"P5,C1,{A},dibao,2026-10,5,6222000000000001,华阳路街道,Y\n",
    })
    drop = load_drop(tmp_path, PROFILE)
    q = drop.quarantine.filter(pl.col("table") == "payments")
    got = {(r["source_row"], r["column"]) for r in q.iter_rows(named=True)}
    assert got == {(1, "month"), (2, "amount"), (3, "program"), (3, "amount"), (3, "small_amount"), (4, "street")}
    s = drop.stats["payments"]
    assert (s.read, s.accepted, s.quarantined) == (5, 1, 4)
    assert drop.tables["payments"]["small_amount"].to_list() == [True]


def test_duplicate_keys_are_all_quarantined_not_guessed(tmp_path):
    write_minimal(tmp_path, **{
        "ledger.csv": "txn_id,payee_id,program,month,amount,bank_account,paid_on,street,status\n"
                      f"T1,{A},dibao,2026-10,1200.00,6222000000000001,2026-10-05,华阳路街道,paid\n"
                      f"T1,{A},dibao,2026-10,1200.00,6222000000000001,2026-10-05,华阳路街道,paid\n"
                      f"T2,{A},dibao,2026-10,1.00,6222000000000001,2026-10-05,华阳路街道,paid\n",
    })
    drop = load_drop(tmp_path, PROFILE)
    assert drop.tables["ledger"]["txn_id"].to_list() == ["T2"]
    assert drop.stats["ledger"].quarantined == 2


def test_district_header_aliases_from_config(tmp_path):
    write_minimal(tmp_path, **{
        "members.csv": f"案件号,公民身份号码,姓名\nC1,{A},张三\n",
    })
    profile = PROFILE.model_copy(update={"header_aliases": {"members": {"案件号": "case_id", "公民身份号码": "person_id"}}})
    drop = load_drop(tmp_path, profile)
    assert drop.tables["members"]["person_id"].to_list() == [A]


def test_optional_table_absent_is_not_loaded(tmp_path):
    write_minimal(tmp_path)
    drop = load_drop(tmp_path, PROFILE)
    assert "allocations" not in drop.tables and set(drop.tables) == {"cases", "members", "payments", "ledger"}


def test_keys_in_ascending_order_are_told_unique_without_hashing():
    from auditor.ingest.loader import _ascending, _duplicated

    assert _ascending(pl.Series(["A1", "A2", "B"])) and _ascending(pl.Series([], dtype=pl.String))
    assert not _ascending(pl.Series(["A1", "A1", "B"]))  # equal neighbours
    assert not _ascending(pl.Series(["A2", "A1"]))
    assert not _ascending(pl.Series(["A1", None, "B"]))  # a null key is never taken as unique
    assert _ascending(pl.Series(["B", "C"]), after="A") and not _ascending(pl.Series(["B", "C"]), after="B")
    assert _duplicated(pl.Series(["A1", "A2", "B"])) is None
    dup = _duplicated(pl.Series(["A2", "A1", "A2"]))  # not ascending: told by hashing
    assert dup is not None and dup.to_list() == [True, False, True]


@pytest.mark.parametrize(("table", "name", "values"), [
    ("payments", "program", ["dibao", "低保", " tekun", "TEKUN", "unknown", None, "temporary"]),
    ("payments", "month", ["2026-10", "2026/9", "2026年8月", "2026-13", None]),
    ("payments", "street", ["长宁路街道", " 华阳路街道", "新华路\x01街道", None, "天山路街道"]),
    ("ledger", "status", ["paid", "已支付", "returned", "lost"]),
    ("ledger", "street", ["长宁路街道", "华阳路街道"]),  # all in normal form: the cast column is the value
])
def test_few_valued_columns_as_categoricals_give_what_compacting_gives(table, name, values):
    """A few-valued column normalised per category gives the values (as a categorical) and errors of
    normalising it as text and compacting it afterwards, nulls and bad values included."""
    from auditor.ingest import loader
    from auditor.ingest.compact import compact

    col = TABLES[table].column(name)
    n = loader.DEDUP_MIN_ROWS + 5_000
    s = pl.Series(name, values, dtype=pl.String).gather(pl.int_range(n, eager=True) % len(values))
    profile = load_profile(None)
    fused = loader._categorical_column(col, s, profile)
    assert fused is not None and fused[0].dtype == pl.Categorical
    text = loader._column(col, s, profile)
    assert fused[0].equals(compact(table, pl.DataFrame({name: text[0]}))[name])
    assert fused[1].equals(text[1], check_names=False)
    assert loader._column(col, s, profile, categorical=True)[0].dtype == pl.Categorical
    assert loader._categorical_column(col, s.head(100), profile) is None  # few rows: the text path


def test_columns_of_many_values_are_not_taken_as_categoricals():
    from auditor.ingest import loader

    col = TABLES["payments"].column("street")
    s = pl.Series("street", [f"街道{i}" for i in range(20_000)])
    assert loader._categorical_column(col, s, load_profile(None)) is None
