"""Property-based fuzzer over the loader (issue #15): CSV, XLSX and Parquet files of every table
with random headers (English, Chinese, aliases in odd case and spacing, duplicates, unknown
ones), encodings, column types and cell contents (valid spellings, near misses, control
characters, any Unicode, raw bytes).

Whatever the file, loading it either raises ``AuditInputError`` naming the file, or gives for
the table rows read = accepted + quarantined with one quarantine row set per quarantined row.
A contract column of a type no value can have (nested, duration, binary) is always refused.

Budget: a fixed number of examples per format (about two minutes in all on the 2-core CI
machine); the ``ci`` profile of ``conftest.py`` derandomizes, so CI runs are reproducible.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from auditor.core import vocab as V
from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.demo.district import resident_id
from auditor.ingest.loader import load_table
from auditor.ingest.schema import TABLES, Column, Table

pytestmark = pytest.mark.slow

PROFILE = load_profile(None)


def fuzz(examples: int) -> settings:
    """This test's fixed budget, on top of the loaded profile (derandomized in CI)."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])



PID = resident_id(date(1980, 5, 17), 123)
CODE_MAPS = {"program": V.PROGRAMS, "case_status": V.CASE_STATUS, "ledger_status": V.LEDGER_STATUS,
             "relation": V.RELATIONS, "member_relation": V.MEMBER_RELATIONS, "staff_role": V.STAFF_ROLES,
             "review_cycle": V.REVIEW_CYCLES, "business_role": V.BUSINESS_ROLES, "penalty_kind": V.PENALTY_KINDS}
GOOD = {  # per kind: accepted spellings
    "person_id": [PID, PID.lower(), f"{PID[:6]} {PID[6:14]} {PID[14:]}", "１１０１０５１９４９１２３１００２Ｘ"],
    "month": ["2026-10", "2026/10", "202610", "2026年10月", "2026年1月"],
    "date": ["2026-10-05", "2026/10/5", "20261005", "2026年10月05日", "2026-10-05 12:30:00"],
    "amount": ["1200.00", "1,234.50元", "１２３４．５", "¥12", "0", "100000000.00"],
    "bool": ["true", "false", "1", "0", "是", "否", "Y", "n"],
    "account": ["6222 0000-0000 0001", "6222000000000001"],
    "phone": ["13800138000", "+86 138-0013-8000", "021-62345678"],
    "address": ["长宁路100弄5号301室", "上海市长宁区长宁路 100 弄 5 号 301 室", "（租住）3楼301室"],
    "str": ["华阳路街道", "张三", "C1", "T1", "华阳\x07路\x00街道"],
    **{kind: [code for code, labels in m.items() for code in (code, *labels)] for kind, m in CODE_MAPS.items()},
}
NEAR = {  # per kind: near misses
    "person_id": [PID[:-1] + ("0" if PID[-1] != "0" else "1"), resident_id(date.today() + timedelta(days=3), 1),
                  resident_id(date(1980, 1, 1), 1, "990101"), resident_id(date(1899, 1, 1), 1), PID[:17]],
    "month": ["2026-13", "10/2026", "2026-10-01", "1899-12"],
    "date": ["2026-02-30", "1899-12-31", "05/10/2026", "2026-10"],
    "amount": ["-5", "999999999999999.99", "100000000.01", "1e3", "0.001", "1.2.3", "12345678901234567890"],
    "bool": ["maybe", "2"],
    "account": ["12", "abc"],
    "phone": ["12345", "138001380001234"],
}
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
CONTROL_TEXT = st.text(st.sampled_from("\x00\x07\x1b\x0b\x1f\x7f\t\r\n ,\"'张3"), max_size=6)


def text_cell(col: Column | None, clean: bool) -> st.SearchStrategy:
    """A cell as text: in a clean file an accepted spelling (padded sometimes), else anything."""
    if col is None:
        return ANY_TEXT
    good = st.sampled_from(GOOD.get(col.kind, GOOD["str"]))
    good = st.one_of(good, good.map(lambda v: f" {v}\t"), *([st.none()] if col.nullable else []))
    if clean:
        return good
    return st.one_of(good, good, good, st.sampled_from(NEAR.get(col.kind, ["合计", ""])),
                     st.none(), st.just(""), ANY_TEXT, CONTROL_TEXT)


@st.composite
def layout(draw) -> tuple[Table, list[tuple[Column | None, str]]]:
    """A table and its file's columns: (contract column or None for an unknown one, header)."""
    table = TABLES[draw(st.sampled_from(sorted(TABLES)))]
    cols = draw(st.lists(st.sampled_from(table.columns), unique=True, min_size=0, max_size=len(table.columns))) \
        if draw(st.integers(0, 9)) == 0 else list(table.columns)  # mostly all columns, sometimes any subset
    cols = draw(st.permutations(cols))
    out: list[tuple[Column | None, str]] = []
    for col in cols:
        spelling = draw(st.sampled_from([col.name, col.label, col.name.upper(), f" {col.label} "]))
        out.append((col, spelling))
    for _ in range(draw(st.integers(0, 2))):  # unknown columns, sometimes a duplicated header
        name = draw(st.one_of(st.sampled_from(["备注", "note", "序号"]), ANY_TEXT.filter(bool),
                              st.sampled_from([h for _, h in out] or ["x"])))
        out.append((None, name))
    return table, out


def check(path: Path, table: Table, n_rows: int, bad_type_columns: set[str] = frozenset()) -> None:
    """The loader's promise for any file."""
    try:
        accepted, quarantine, stats = load_table(path, table, PROFILE)
    except AuditInputError as err:
        assert path.name in str(err), str(err)
        return
    assert not bad_type_columns, f"{bad_type_columns} of an unusable type were read"
    assert stats.read == stats.accepted + stats.quarantined
    assert stats.read <= n_rows
    assert accepted.height == stats.accepted
    assert quarantine["source_row"].n_unique() == stats.quarantined
    assert {c.name for c in table.columns} <= set(accepted.columns)


# ------------------------------------------------------------------ CSV

@fuzz(600)
@given(layout(), st.data(), st.booleans(), st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
       st.sampled_from(["none"] * 5 + ["drop_comma", "add_comma", "bytes"]))
def test_csv(spec, data, clean, encoding, damage):
    table, columns = spec
    n = data.draw(st.integers(0, 12))
    rows = [[data.draw(text_cell(c, clean)) for c, _ in columns] for _ in range(n)]
    names = [f"c{i}" for i in range(len(columns))]
    frame = pl.DataFrame([[r[i] for r in rows] for i in range(len(columns))], schema=names, orient="col")
    body = frame.write_csv(include_header=False) if columns else "\n" * n
    header = ",".join('"' + h.replace('"', '""') + '"' if any(ch in h for ch in ',"\r\n') else h
                      for _, h in columns)
    text = header + "\n" + body
    lines = text.split("\n")
    if damage in ("drop_comma", "add_comma"):
        i = data.draw(st.integers(0, len(lines) - 1))
        lines[i] = lines[i].replace(",", "", 1) if damage == "drop_comma" else lines[i] + ","
        text = "\n".join(lines)
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode("gb18030")
    if damage == "bytes":
        raw = raw[: data.draw(st.integers(0, len(raw)))] + data.draw(st.binary(max_size=8))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{table.name}.csv"
        path.write_bytes(raw)
        check(path, table, n + text.count("\r") + 1)  # a damaged file may split a row: an upper bound only


# ------------------------------------------------------------------ XLSX

def xlsx_cell(col: Column | None, clean: bool) -> st.SearchStrategy:
    text = text_cell(col, clean).map(
        lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)  # openpyxl cannot hold them
    if clean and col is not None and col.kind == "date":
        return st.one_of(text, st.dates(date(1950, 1, 1), date(2030, 12, 31)))
    if clean:
        return text
    return st.one_of(text, st.integers(-10**12, 10**12), st.floats(-1e9, 1e9, allow_nan=False),
                     st.dates(date(1890, 1, 1), date(2100, 12, 31)),
                     st.datetimes(datetime(1900, 3, 1), datetime(2100, 1, 1)), st.booleans(),
                     st.decimals(Decimal("-1e6"), Decimal("1e6"), places=2))


@fuzz(300)
@given(layout(), st.data(), st.booleans(), st.booleans())
def test_xlsx(spec, data, clean, named_sheet):
    table, columns = spec
    wb = Workbook()
    ws = wb.active
    ws.title = table.name if named_sheet else "Sheet1"
    ws.append([ILLEGAL_CHARACTERS_RE.sub("", h) for _, h in columns])
    n = data.draw(st.integers(0, 12))
    for _ in range(n):
        ws.append([data.draw(xlsx_cell(c, clean)) for c, _ in columns])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{table.name}.xlsx"
        wb.save(path)
        check(path, table, n)


# ------------------------------------------------------------------ Parquet

USABLE = {
    "text": pl.String, "int": pl.Int64, "uint": pl.UInt8, "float": pl.Float64, "decimal": pl.Decimal(12, 2),
    "decimal4": pl.Decimal(20, 4), "date": pl.Date, "datetime": pl.Datetime("us"),
    "datetime_utc": pl.Datetime("ms", "UTC"), "datetime_tokyo": pl.Datetime("us", "Asia/Tokyo"),
    "bool": pl.Boolean, "categorical": pl.Categorical, "null": pl.Null, "time": pl.Time,
}
UNUSABLE = {"list": pl.List(pl.String), "array": pl.Array(pl.Int32, 2), "struct": pl.Struct({"a": pl.String}),
            "duration": pl.Duration("us"), "binary": pl.Binary}
NATURAL = {"date": ["date", "datetime", "datetime_utc"], "month": ["date"], "amount": ["decimal"],
           "bool": ["bool"]}  # besides text, the types a clean export gives each kind


def typed_column(draw, type_name: str, col: Column | None, n: int, clean: bool) -> pl.Series:
    """``n`` values of one Parquet column typed ``type_name``."""
    maybe = (lambda v: v) if clean and col is not None and not col.nullable else (lambda v: st.one_of(st.none(), v))
    if type_name in ("text", "categorical"):
        s = pl.Series([draw(text_cell(col, clean)) for _ in range(n)], dtype=pl.String)
        return s.cast(pl.Categorical) if type_name == "categorical" else s
    if type_name == "null":
        return pl.Series([None] * n, dtype=pl.Null)
    if type_name in ("int", "uint", "float", "decimal", "decimal4"):
        top = 255 if type_name == "uint" else 10**15
        values = [draw(maybe(st.integers(0 if clean or type_name == "uint" else -10**6, top))) for _ in range(n)]
        if type_name.startswith("decimal"):
            values = [None if v is None else Decimal(v % 10**9) / 100 for v in values]
        return pl.Series(values).cast(USABLE[type_name], strict=False)
    if type_name in ("date", "datetime", "datetime_utc", "datetime_tokyo"):
        lo, hi = (datetime(1950, 1, 1), datetime(2030, 1, 1)) if clean else (datetime(1800, 1, 1), datetime(2200, 1, 1))
        s = pl.Series([draw(maybe(st.datetimes(lo, hi))) for _ in range(n)], dtype=pl.Datetime("us"))
        if type_name == "date":
            return s.dt.date()
        zone = USABLE[type_name].time_zone
        return s.dt.replace_time_zone(zone).cast(USABLE[type_name]) if zone else s
    if type_name == "bool":
        return pl.Series([draw(maybe(st.booleans())) for _ in range(n)], dtype=pl.Boolean)
    if type_name == "time":
        return pl.Series([draw(st.one_of(st.none(), st.times())) for _ in range(n)], dtype=pl.Time)
    if type_name == "duration":
        return pl.Series([timedelta(seconds=draw(st.integers(0, 10**6))) for _ in range(n)], dtype=pl.Duration("us"))
    if type_name == "binary":
        return pl.Series([draw(st.binary(max_size=6)) for _ in range(n)], dtype=pl.Binary)
    if type_name == "array":
        return pl.Series([[draw(st.integers(0, 9)), 1] for _ in range(n)], dtype=UNUSABLE["array"])
    if type_name == "struct":
        return pl.Series([{"a": draw(ANY_TEXT)} for _ in range(n)], dtype=UNUSABLE["struct"])
    return pl.Series([[draw(ANY_TEXT)] for _ in range(n)], dtype=UNUSABLE["list"])


@fuzz(600)
@given(layout(), st.data(), st.booleans())
def test_parquet(spec, data, clean):
    table, columns = spec
    n = data.draw(st.integers(0, 12))
    unique = list({h: (c, h) for c, h in reversed(columns)}.values())[::-1]  # Parquet cannot hold a name twice
    wrong = data.draw(st.integers(0, len(unique))) if data.draw(st.integers(0, 4)) == 0 else None
    series, bad = [], set()
    for i, (col, header) in enumerate(unique):
        if i == wrong:
            type_name = data.draw(st.sampled_from(sorted(UNUSABLE)))
            if col is not None:
                bad.add(col.name)
        elif clean and col is not None:
            type_name = data.draw(st.sampled_from(["text", *NATURAL.get(col.kind, [])]))
        else:
            type_name = data.draw(st.sampled_from(sorted(USABLE)))
        series.append(typed_column(data.draw, type_name, col, n, clean).alias(header))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{table.name}.parquet"
        pl.DataFrame(series).write_parquet(path)
        check(path, table, n, bad)


def test_a_date_typed_column_in_a_text_kind_is_quarantined_not_a_crash(tmp_path):
    """A plain type on the wrong kind of column is bad values, not an unusable file."""
    table = TABLES["deaths"]
    path = tmp_path / "deaths.parquet"
    pl.DataFrame({"person_id": [date(2020, 1, 1)], "died_on": [time(12, 0)]}).write_parquet(path)
    accepted, quarantine, stats = load_table(path, table, PROFILE)
    assert (stats.read, stats.quarantined) == (1, 1)
    assert sorted(quarantine["column"].to_list()) == ["died_on", "person_id"]
