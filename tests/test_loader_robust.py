"""Issue #15, loader and values: column types, control characters, the amount cap, resident ids,
typed Parquet months and timestamps. Each test reproduces a failure the issue describes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from openpyxl import load_workbook

from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.demo.district import resident_id
from auditor.ingest import normalize as N
from auditor.ingest.loader import load_drop
from auditor.jobs.monthly import run_audit
from tests.rulecases import person
from tests.test_loader import write_minimal

PROFILE = load_profile(None)
A = person("@A")
LEDGER_HEADER = "txn_id,case_id,payee_id,program,month,amount,bank_account,paid_on,street,status\n"


def ledger_parquet(tmp_path, **columns) -> None:
    """A one-row typed ledger.parquet (replacing ledger.csv), any column overridden or added."""
    (tmp_path / "ledger.csv").unlink(missing_ok=True)
    base = {"txn_id": ["T1"], "case_id": ["C1"], "payee_id": [A], "program": ["dibao"], "month": ["2026-10"],
            "amount": ["1200.00"], "bank_account": ["6222000000000001"], "paid_on": ["2026-10-05"],
            "street": ["华阳路街道"], "status": ["paid"]}
    pl.DataFrame({**base, **columns}).write_parquet(tmp_path / "ledger.parquet")


def counts_add_up(drop) -> bool:
    return all(s.read == s.accepted + s.quarantined for s in drop.stats.values())


# ------------------------------------------------------------------ 1. unusable Parquet column types

UNUSABLE = {
    "List": pl.Series([["a", "b"]], dtype=pl.List(pl.String)),
    "Array": pl.Series([[1, 2]], dtype=pl.Array(pl.Int64, 2)),
    "Struct": pl.Series([{"yuan": 1200, "fen": 0}]),
    "Duration": pl.Series([timedelta(days=3)]),
    "Binary": pl.Series([b"1200.00"]),
}


@pytest.mark.parametrize("column", ["amount", "payee_id", "street", "paid_on", "month"])
@pytest.mark.parametrize("kind", list(UNUSABLE))
def test_contract_column_of_unusable_type_makes_the_file_unusable(tmp_path, kind, column):
    write_minimal(tmp_path)
    ledger_parquet(tmp_path, **{column: UNUSABLE[kind]})
    with pytest.raises(AuditInputError) as err:
        load_drop(tmp_path, PROFILE)
    message = str(err.value)
    assert "ledger.parquet" in message and repr(column) in message and kind in message
    assert "\n" not in message


@pytest.mark.parametrize("kind", list(UNUSABLE))
def test_column_outside_the_contract_is_ignored_whatever_its_type(tmp_path, kind):
    write_minimal(tmp_path)
    ledger_parquet(tmp_path, extra=UNUSABLE[kind])
    drop = load_drop(tmp_path, PROFILE)
    assert drop.tables["ledger"]["amount"].to_list() == [120000]
    assert "extra" not in drop.tables["ledger"].columns


def test_unusable_type_under_a_chinese_header_is_named(tmp_path):
    write_minimal(tmp_path)
    (tmp_path / "ledger.csv").unlink()
    pl.DataFrame({"流水号": ["T1"], "收款人身份证号": [A], "救助类型": ["dibao"], "所属月份": ["2026-10"],
                  "支付金额": UNUSABLE["Struct"], "收款账号": ["6222000000000001"], "支付日期": ["2026-10-05"],
                  "街镇": ["华阳路街道"], "支付状态": ["paid"]}).write_parquet(tmp_path / "ledger.parquet")
    with pytest.raises(AuditInputError, match="支付金额.*Struct"):
        load_drop(tmp_path, PROFILE)


# ------------------------------------------------------------------ 2. control characters in free text

CONTROLS = ["\x00", "\x07", "\x1b", "\x0b", "\x1f", "\x7f"]


def test_control_characters_in_free_text_are_spaces(tmp_path):
    names = [f"张{c}三" for c in CONTROLS]
    rows = "".join(f"C1,{person('@m' + str(i))},{name},101{i}弄{c}5号\n"
                   for i, (c, name) in enumerate(zip(CONTROLS, names, strict=False)))
    write_minimal(tmp_path, **{"members.csv": "case_id,person_id,name,address\n" + rows})
    pl.DataFrame({"txn_id": ["T1"], "payee_id": [A], "program": ["dibao"], "month": ["2026-10"],
                  "amount": ["1.00"], "bank_account": ["6222000000000001"], "paid_on": ["2026-10-05"],
                  "street": ["华阳\x00路街道\x1f"], "status": ["paid"]}).write_parquet(tmp_path / "ledger.parquet")
    (tmp_path / "ledger.csv").unlink()
    drop = load_drop(tmp_path, PROFILE)
    members = drop.tables["members"]
    assert members["name"].to_list() == ["张 三"] * len(CONTROLS)
    assert members["address"].to_list() == [f"101{i}弄 5号" for i in range(len(CONTROLS))]
    assert drop.tables["ledger"]["street"].to_list() == ["华阳 路街道"]  # trailing one stripped like a space
    assert drop.stats["members"].quarantined == 0


def test_control_characters_elsewhere_are_not_changed():
    frame = pl.DataFrame({"raw": ["a\tb", "中\u3000文", "x\u0080y"]})
    assert frame.select(N.free_text(pl.col("raw"))).to_series().to_list() == ["a b", "中\u3000文", "x\u0080y"]


def test_run_with_control_characters_writes_every_output(tmp_path):
    from auditor.demo.generate import generate

    drop_dir, out = tmp_path / "drop", tmp_path / "out"
    generate(drop_dir, month="2026-10", n_cases=200)
    accounts = pl.read_parquet(drop_dir / "accounts.parquet")
    accounts.with_columns(pl.col("holder_name") + "\x07\x00名").write_parquet(drop_dir / "accounts.parquet")
    members = pl.read_csv(drop_dir / "members.csv", infer_schema=False)
    members = members.with_columns(pl.col("name").str.slice(0, 1) + "\x1b" + pl.col("name").str.slice(1))
    (drop_dir / "members.csv").write_bytes(members.write_csv().encode("utf-8"))
    result = run_audit(month="2026-10", data_dir=drop_dir, out_dir=out, profile=PROFILE,
                       db_url=f"sqlite:///{tmp_path / 'auditor.db'}")
    assert result is not None
    for name in ("report.html", "issues.xlsx", "run.json", "findings.csv"):
        assert (out / name).is_file(), name
    wb = load_workbook(out / "issues.xlsx", read_only=True)
    text = "".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    wb.close()
    spaced = (members["name"].str.replace("\x1b", " ", literal=True)).to_list()
    assert any(name in text for name in spaced)  # titles name members: the control character became a space
    assert not any(chr(c) in text for c in [*range(0x20), 0x7F] if chr(c) not in "\n")


def test_screen_hold_list_with_control_characters_in_a_quarantined_row(tmp_path):
    from tests.test_screen import drop, payments_file, screen

    pay = payments_file(tmp_path, [{"payee_id": "@A", "case_id": "C1", "street": "华阳\x07路街道"},
                                   {"payee_id": "31010\x001980", "case_id": "C1\x1b"}])
    code, holds = screen(tmp_path, pay, drop(tmp_path))
    assert code == 1
    wb = load_workbook(tmp_path / "out" / "hold.xlsx", read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    assert ("P2", "C1 ", "31010 1980") == rows[1][:3]  # the quarantined row as read, control characters as spaces


# ------------------------------------------------------------------ 3. amount cap

HUGE = "999999999999999.99"


def test_amounts_above_the_cap_are_quarantined_and_totals_stay_exact(tmp_path):
    rows = [f"T1,C1,{A},dibao,2026-10,1200.00,6222000000000001,2026-10-05,华阳路街道,paid\n"]
    rows += [f"H{i},C1,{A},dibao,2026-10,{HUGE},6222000000000001,2026-10-05,华阳路街道,paid\n" for i in range(300)]
    drop_dir = tmp_path / "drop"
    drop_dir.mkdir()
    write_minimal(drop_dir, **{"ledger.csv": LEDGER_HEADER + "".join(rows)})
    drop = load_drop(drop_dir, PROFILE)
    s = drop.stats["ledger"]
    assert (s.read, s.accepted, s.quarantined) == (301, 1, 300)
    reasons = drop.quarantine.filter(pl.col("table") == "ledger")["reason"].unique().to_list()
    assert reasons == ["金额超出合理上限"]
    run_audit(month="2026-10", data_dir=drop_dir, out_dir=tmp_path / "out", profile=PROFILE,
              db_url=f"sqlite:///{tmp_path / 'auditor.db'}")
    money = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))["money"]
    assert (money["instructed"], money["paid"]) == ("1200.00", "1200.00")


@pytest.mark.parametrize("raw, expected", [
    ("100000000.00", (10_000_000_000, None)),
    ("100000000.01", (None, "金额超出合理上限")),
    ("1,000,000,000", (None, "金额超出合理上限")),
    ("1234567890123456", (None, "金额超出合理上限")),  # more digits than Int64 fen could hold
    ("99999999999999999999999.5", (None, "金额超出合理上限")),
])
def test_amount_cap_in_text(raw, expected):
    out = pl.DataFrame({"raw": [raw]}).select(*N.amount(pl.col("raw"))).row(0)
    assert out == expected


def test_amount_cap_for_typed_decimal_parquet(tmp_path):
    write_minimal(tmp_path)
    amounts = pl.Series([Decimal("1200.00"), Decimal("100000000.00"), Decimal("100000000.01"),
                         Decimal("999999999999999.99")], dtype=pl.Decimal(17, 2))
    ledger_parquet(tmp_path, txn_id=[f"T{i}" for i in range(4)], amount=amounts,
                   **{c: [v] * 4 for c, v in {"case_id": "C1", "payee_id": A, "program": "dibao", "month": "2026-10",
                                               "bank_account": "6222000000000001", "paid_on": "2026-10-05",
                                               "street": "华阳路街道", "status": "paid"}.items()})
    drop = load_drop(tmp_path, PROFILE)
    assert drop.tables["ledger"]["amount"].to_list() == [120000, 10_000_000_000]
    assert drop.quarantine["reason"].to_list() == ["金额超出合理上限"] * 2


# ------------------------------------------------------------------ 4. resident ids

def pid_check(ids: list[str], today: date | None = None) -> list[tuple[str | None, str | None]]:
    return list(pl.DataFrame({"raw": ids}).select(*N.person_id(pl.col("raw"), today=today)).iter_rows())


def test_birth_after_today_is_refused_with_its_own_reason():
    today = date.today()
    born_today, born_tomorrow = resident_id(today, 1), resident_id(today + timedelta(days=1), 1)
    assert pid_check([born_today, born_tomorrow]) == [(born_today, None), (None, "身份证号出生日期晚于今天")]
    fixed = resident_id(date(2026, 10, 6), 7)
    assert pid_check([fixed], today=date(2026, 10, 5)) == [(None, "身份证号出生日期晚于今天")]
    assert pid_check([fixed], today=date(2026, 10, 6)) == [(fixed, None)]


@pytest.mark.parametrize("region", ["000000", "999999", "100105", "160101", "240101", "470101", "720101", "840101"])
def test_impossible_province_code_is_refused(region):
    pid = resident_id(date(1980, 1, 1), 12, region=region)
    assert pid_check([pid]) == [(None, "身份证号地区码无效")]


@pytest.mark.parametrize("prefix", sorted(N.PROVINCE_CODES))
def test_every_province_code_of_the_contract_is_accepted(prefix):
    pid = resident_id(date(1980, 1, 1), 12, region=prefix + "0101")
    assert pid_check([pid]) == [(pid, None)]


def test_province_codes_are_exactly_the_contracts():
    ranges = [(11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (71, 71), (81, 83)]
    assert N.PROVINCE_CODES == {f"{c}" for lo, hi in ranges for c in range(lo, hi + 1)}
    assert len(N.PROVINCE_CODES) == 35


def test_birth_before_1900_and_unreal_dates_are_refused():
    ids = [resident_id(date(1899, 12, 31), 3), resident_id(date(1900, 1, 1), 3)]
    feb30 = "31010519800230123"
    from tests.test_normalize import with_checksum
    assert pid_check([*ids, with_checksum(feb30)]) == [
        (None, "身份证号出生日期无效"), (ids[1], None), (None, "身份证号出生日期无效")]


def test_future_birth_and_bad_region_are_quarantined_at_load(tmp_path):
    future = resident_id(date.today() + timedelta(days=30), 5)
    nowhere = resident_id(date(1970, 5, 5), 5, region="999999")
    write_minimal(tmp_path, **{"members.csv": f"case_id,person_id,name\nC1,{A},甲\nC1,{future},乙\nC1,{nowhere},丙\n"})
    drop = load_drop(tmp_path, PROFILE)
    q = drop.quarantine.filter(pl.col("table") == "members")
    assert q.select("source_row", "reason").rows() == [(2, "身份证号出生日期晚于今天"), (3, "身份证号地区码无效")]
    assert drop.tables["members"]["person_id"].to_list() == [A]


# ------------------------------------------------------------------ 5. typed Parquet months and timestamps

def test_parquet_month_typed_as_date_is_that_month(tmp_path):
    write_minimal(tmp_path)
    ledger_parquet(tmp_path, month=[date(2026, 10, 1)], paid_on=[date(2026, 10, 5)])
    drop = load_drop(tmp_path, PROFILE)
    assert drop.tables["ledger"]["month"].to_list() == ["2026-10"]
    assert drop.stats["ledger"].quarantined == 0


def test_parquet_month_typed_as_date_keeps_the_year_range(tmp_path):
    write_minimal(tmp_path)
    ledger_parquet(tmp_path, txn_id=["T1", "T2"], month=[date(2026, 9, 30), date(1850, 1, 1)],
                   **{c: [v, v] for c, v in {"case_id": "C1", "payee_id": A, "program": "dibao", "amount": "1.00",
                                             "bank_account": "6222000000000001", "paid_on": "2026-10-05",
                                             "street": "华阳路街道", "status": "paid"}.items()})
    drop = load_drop(tmp_path, PROFILE)
    assert drop.tables["ledger"]["month"].to_list() == ["2026-09"]
    assert drop.quarantine.select("column", "reason").rows() == [("month", "月份格式错误")]


def test_timezone_aware_timestamps_are_read_in_beijing_time(tmp_path):
    write_minimal(tmp_path)
    utc = pl.Series([datetime(2026, 10, 4, 17, 30, tzinfo=UTC)]).dt.convert_time_zone("UTC")
    ledger_parquet(tmp_path, paid_on=utc, month=pl.Series([datetime(2026, 9, 30, 16, 0)]).dt.replace_time_zone("UTC"))
    drop = load_drop(tmp_path, PROFILE)
    ledger = drop.tables["ledger"]
    assert ledger["paid_on"].to_list() == [date(2026, 10, 5)]  # 01:30 on the 5th in Beijing
    assert ledger["month"].to_list() == ["2026-10"]  # midnight of 1 October in Beijing
    assert drop.stats["ledger"].quarantined == 0


def test_naive_timestamp_in_a_date_column_is_its_date(tmp_path):
    write_minimal(tmp_path)
    ledger_parquet(tmp_path, paid_on=[datetime(2026, 10, 5, 23, 59)])
    drop = load_drop(tmp_path, PROFILE)
    assert drop.tables["ledger"]["paid_on"].to_list() == [date(2026, 10, 5)]
    assert counts_add_up(drop)
