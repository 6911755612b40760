"""Load a month's data drop (``data-contract.md``) into normalised polars frames.

Every table is read (CSV in UTF-8/UTF-8-BOM/GBK/GB18030 and XLSX as text, the
table found inside title, header and footer rows by ``auditor.ingest.layout``; Parquet
with its own types, reading only the contract's columns), its headers mapped
from English or Chinese names, and each known column run through its
normaliser. Typed Parquet columns that need no parsing (Date, Decimal amounts,
Boolean) skip the text normalisers with the same result; a text column whose
values repeat is normalised once per distinct value. A row with any bad value
is quarantined (one quarantine line per bad value) and never reaches the rules; for every table
rows read = rows accepted + rows quarantined. Unusable input raises
``AuditInputError`` naming the file and column.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial
from itertools import islice, zip_longest
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from auditor.core import vocab as V
from auditor.core.config import Profile
from auditor.core.errors import AuditInputError
from auditor.core.private import private_open
from auditor.core.repeats import duplicated, exactly, repeated_hashes
from auditor.ingest import layout
from auditor.ingest import normalize as N
from auditor.ingest.compact import compact as compact_frame
from auditor.ingest.compact import compact_columns
from auditor.ingest.schema import TABLES, Column, Table
from auditor.ingest.spill import SpilledTables

EXTENSIONS = (".csv", ".xlsx", ".parquet")
QUARANTINE_SCHEMA = {"table": pl.String, "source_row": pl.Int64, "column": pl.String,
                     "value": pl.String, "reason": pl.String, "location": pl.String}
# An id or account cell stored as a number: (reason, smallest number that has lost digits).
# Excel keeps 15 significant digits, so a resident id (18) never survives; an account up to
# 15 digits does.
NUMBER_LOST = {
    "person_id": ("身份证号被存为数字，末位已丢失，请将该列设为文本后重新导出", 0),
    "account": ("银行账号被存为数字，末位已丢失，请将该列设为文本后重新导出", 10**15),
}
SCIENTIFIC = r"^[0-9](?:\.[0-9]+)?[eE]\+?[0-9]+$"  # how Excel writes such a number to CSV

_CODES = {
    "program": (V.PROGRAMS, "救助类型无法识别"),
    "case_status": (V.CASE_STATUS, "案件状态无法识别"),
    "ledger_status": (V.LEDGER_STATUS, "支付状态无法识别"),
    "relation": (V.RELATIONS, "亲属关系无法识别"),
    "member_relation": (V.MEMBER_RELATIONS, "与领款人关系无法识别"),
    "staff_role": (V.STAFF_ROLES, "岗位无法识别"),
    "review_cycle": (V.REVIEW_CYCLES, "核查周期无法识别"),
    "business_role": (V.BUSINESS_ROLES, "市场主体角色无法识别"),
    "penalty_kind": (V.PENALTY_KINDS, "刑罚类型无法识别"),
}
_NORMALISERS: dict[str, Callable[[pl.Expr], N.Normalized]] = {
    "person_id": N.person_id, "month": N.month, "date": N.date, "amount": N.amount,
    "bool": N.boolean, "account": N.account, "phone": N.phone,
    **{kind: partial(N.code, mapping=m, reason=r) for kind, (m, r) in _CODES.items()},
}
_DTYPES = {"date": pl.Date, "amount": pl.Int64, "bool": pl.Boolean}
DEDUP_MIN_ROWS = 10_000  # below this, normalising every row is as quick as deduplicating
# Repeats per distinct value from which a column is normalised per distinct value: free text
# gains only when its values are too long to be stored inline (12 bytes); resident ids (checked on
# their bytes, ~0.1 µs a value: the hashing costs more) only for the memory their shared strings
# save, from 8 repeats; the dwelling key (a dozen regex passes, ~2 µs a value) from 1.5 (members of
# one household share an address).
DEDUP_REPEATS = {"str": 10, "person_id": 8, "address": 1.5}
PLAIN_ADDRESSES = True  # an address needing no rewrite (``N.plain_address``) skips the dwelling-key passes
FEW_DISTINCT = 50_000  # up to this many distinct values, exact unique + replace beats hashing
COLUMN_WORKERS = max(2, min(pl.thread_pool_size(), 4))  # columns of one table normalised at once
# Tables loaded at once, each normalising COLUMN_WORKERS // TABLE_WORKERS columns at a time: as many
# columns in flight as one table alone (city: two tables with two columns each peaked 300 MiB higher).
TABLE_WORKERS = 2
WHOLE_READ_MAX_BYTES = 16 * 2**20  # a smaller Parquet file is read at once, a bigger one column by column
BEIJING = "Asia/Shanghai"  # timezone-aware timestamps are read as Beijing dates
# What a contract column of each kind may be typed as in Parquet (for the message refusing other types).
_EXPECTED_TYPES = {
    "date": ("日期、时间戳或文本", "Date, Datetime or String"),
    "month": ("月份文本或日期", "String, Date or Datetime"),
    "amount": ("金额数值或文本", "Decimal, integer or String"),
    "bool": ("布尔值或文本", "Boolean or String"),
}


@dataclass
class TableStats:
    file: str
    read: int
    accepted: int
    quarantined: int
    missing_columns: list[str] = field(default_factory=list)
    skipped_before_header: int = 0  # title, unit, 填报 and blank lines above the header (all sheets)
    skipped_totals: int = 0  # 合计 / 小计 / 总计 rows
    skipped_notes: int = 0  # 制表人 / 审核人 / 备注 lines after the data
    skipped_blank: int = 0  # blank rows below the header
    sheets: list[str] = field(default_factory=list)  # XLSX sheets read


@dataclass
class Drop:
    directory: Path
    tables: Mapping[str, pl.DataFrame]  # a dict, or ``SpilledTables`` when streamed
    stats: dict[str, TableStats]
    quarantine: pl.DataFrame


def find_table_file(directory: Path, table: Table) -> Path | None:
    """The file holding ``table``: ``<name>.<ext>`` or ``<中文名>.<ext>``; refuse ambiguity."""
    stems = {table.name.lower(), table.label}
    found = [p for p in sorted(directory.iterdir())
             if p.is_file() and p.suffix.lower() in EXTENSIONS and p.stem.lower() in stems]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise AuditInputError(f"数据表 {table.name} 有多个文件（{names}），请只保留一个 (ambiguous table files)")
    return found[0] if found else None


def _decode_csv(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:]
    try:
        raw.decode("utf-8")
        return raw
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError as exc:
        raise AuditInputError(
            f"{path}: 无法识别文件编码，应为 UTF-8 或 GBK/GB18030 (cannot decode at byte {exc.start})"
        ) from None


def _cell_text(value: object) -> str | None:
    """An Excel cell as the text the normalisers expect (dates as ISO, exact numbers)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _read_xlsx(path: Path, table: Table, profile: Profile | None) -> list[layout.Part]:
    """The sheet named after the table, else every sheet whose header names the table's required
    columns (one sheet per street), else the first sheet."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise AuditInputError(f"{path}: 无法读取 Excel 文件 (cannot read xlsx: {exc})") from None
    lookup, required = header_lookup(table, profile), {c.name for c in table.columns if c.required}
    try:
        names = {table.name, table.label}
        sheets = [ws for ws in wb.worksheets if ws.title in names][:1] or wb.worksheets
        parts = []
        for ws in sheets:
            rows = ws.iter_rows(values_only=True)
            head = list(islice(rows, layout.HEAD_ROWS))
            header = layout.find_header([[_cell_text(v) for v in r] for r in head], lookup, required)
            if len(sheets) == 1 or (header is not None and required <= layout.named_columns(header.names, lookup)):
                where = f"{path}（工作表 {ws.title}）" if len(sheets) > 1 else str(path)
                parts.append(_sheet_part(where, ws.title, table, profile, header, head, rows))
        if not parts:  # no sheet names the required columns: read the first, whose missing column is reported
            rows = sheets[0].iter_rows(values_only=True)
            head = list(islice(rows, layout.HEAD_ROWS))
            header = layout.find_header([[_cell_text(v) for v in r] for r in head], lookup, required)
            parts.append(_sheet_part(str(path), sheets[0].title, table, profile, header, head, rows))
    finally:
        wb.close()
    return parts


def _sheet_part(where: str, title: str, table: Table, profile: Profile | None, header: layout.Header | None,
                head: list[tuple[Any, ...]], rest: Iterable[tuple[Any, ...]]) -> layout.Part:
    """The data rows of one sheet below its header, as text, with the id/account cells stored as numbers."""
    header = header or layout.Header(len(head), 1, [])
    data = head[header.row + header.depth:] + list(rest)
    columns = _position_columns(table, header.names, where, profile)
    width = max(len(columns), max((len(r) for r in data), default=0))
    cells = list(zip_longest(*data, fillvalue=None)) if data else []
    cells += [(None,) * len(data)] * (width - len(cells))
    frame = pl.DataFrame({f"_c{j}": pl.Series([_cell_text(v) for v in col], dtype=pl.String)
                          for j, col in enumerate(cells)})
    numbers: dict[str, pl.Series] = {}
    for j, name in enumerate(columns):
        kind = table.column(name).kind if name else None
        if name and kind in NUMBER_LOST:
            least = NUMBER_LOST[kind][1]
            numbers[name] = pl.Series([type(v) in (int, float) and abs(v) >= least for v in cells[j]],
                                      dtype=pl.Boolean)
    first = header.row + header.depth + 1  # sheet row of the first data row
    line = pl.int_range(first, first + len(data), dtype=pl.Int64, eager=True)
    return layout.finish(frame, line, pl.repeat(None, len(data), dtype=pl.String, eager=True), header.names,
                         columns, _id_columns(table), numbers, title, header.row)


def _read_csv(path: Path, table: Table, profile: Profile | None) -> layout.Part:
    """A CSV file's data rows below its header (title lines skipped), each with its line number."""
    data = _decode_csv(path)
    head, ends = layout.csv_head(data)
    header = layout.find_header(head, header_lookup(table, profile), {c.name for c in table.columns if c.required})
    if header is None:  # nothing but blank lines
        empty = pl.Series([], dtype=pl.Int64)
        return layout.finish(pl.DataFrame(), empty, empty.cast(pl.String), [], [], set(), {}, None, len(head))
    columns = _position_columns(table, header.names, str(path), profile)
    header_width = max((j + 1 for j, name in enumerate(header.names) if name.strip()), default=0)
    width = max(len(r) for r in head)
    frame, line, broken = layout.csv_body(data, ends[header.row + header.depth - 1], width, header_width)
    return layout.finish(frame, line, broken, header.names, columns, _id_columns(table), {}, None, header.row)


def _position_columns(table: Table, names: list[str], where: str, profile: Profile | None) -> list[str | None]:
    """The canonical column at each header position (None: not the contract's); a column named twice is an error."""
    mapping = header_map(table, names, Path(where), profile)
    return [mapping.get(n) for n in names]


def _id_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if c.kind == "person_id"}


@dataclass
class _Text:
    """A CSV/XLSX table's data rows (canonical column names) with where each row is and what was skipped."""
    frame: pl.DataFrame
    line: pl.Series
    sheet: pl.Series | None
    broken: pl.Series
    numbers: dict[str, pl.Series]
    skipped: dict[str, int]
    sheets: list[str]


def _read_text(path: Path, table: Table, profile: Profile | None) -> _Text:
    parts = [_read_csv(path, table, profile)] if path.suffix.lower() == ".csv" else _read_xlsx(path, table, profile)
    frame = parts[0].frame if len(parts) == 1 else pl.concat([p.frame for p in parts], how="diagonal")
    numbers = {name: pl.concat([p.numbers.get(name, pl.repeat(False, p.frame.height, dtype=pl.Boolean, eager=True))
                                for p in parts])
               for name in {k for p in parts for k in p.numbers}}
    sheet = None
    if parts[0].sheet is not None:
        sheet = pl.concat([pl.repeat(p.sheet, p.frame.height, dtype=pl.String, eager=True) for p in parts])
    skipped = {"skipped_before_header": sum(p.before_header for p in parts),
               "skipped_totals": sum(p.totals for p in parts), "skipped_notes": sum(p.notes for p in parts),
               "skipped_blank": sum(p.blank for p in parts)}
    return _Text(frame, pl.concat([p.line for p in parts]), sheet, pl.concat([p.broken for p in parts]), numbers,
                 skipped, [p.sheet for p in parts if p.sheet is not None])


def read_raw(path: Path, table: Table, columns: list[str] | None = None,
             profile: Profile | None = None) -> pl.DataFrame:
    """Read a table file: CSV/XLSX as text data rows (header found, footers skipped, canonical
    column names), Parquet with its own column types.

    ``columns``: Parquet projection (only these columns are read). ``profile``: its header aliases.
    """
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".xlsx"):
            return _read_text(path, table, profile).frame
        schema_names = pl.read_parquet_schema(path).keys()
        keep = [c for c in schema_names if columns is None or c in columns]
        return pl.read_parquet(path, columns=keep)
    except AuditInputError:
        raise
    except Exception as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: Exception) -> AuditInputError:
    """A file that cannot be read; a CSV parser's message may quote rows (personal data): named by kind only."""
    detail = type(exc).__name__ if path.suffix.lower() == ".csv" else exc
    return AuditInputError(f"{path}: 文件无法读取 (cannot read: {detail})")


def header_lookup(table: Table, profile: Profile | None) -> dict[str, str]:
    """Header key (``layout.header_key``) -> canonical column: English name, Chinese label, profile aliases."""
    lookup: dict[str, str] = {}
    for col in table.columns:
        lookup[layout.header_key(col.name)] = col.name
        lookup[layout.header_key(col.label)] = col.name
    aliases = profile.header_aliases.get(table.name, {}) if profile is not None else {}
    for header, canonical in aliases.items():
        lookup[layout.header_key(header)] = canonical
    return lookup


def header_map(table: Table, headers: list[str], path: Path, profile: Profile | None) -> dict[str, str]:
    """File header -> canonical column (English name, Chinese label or a profile alias, matched with
    whitespace and line breaks removed); unknown ones left out. A column named twice is an error."""
    lookup = header_lookup(table, profile)
    mapping: dict[str, str] = {}
    for h in headers:
        canonical = lookup.get(layout.header_key(h))
        if canonical is None:
            continue
        if canonical in mapping.values():
            label = next((c.label for c in table.columns if c.name == canonical), canonical)
            raise AuditInputError(f"{path}: 列 {canonical}（{label}）出现多次，无法判断哪一列有效"
                                  f"（header {h!r} duplicates it）")
        mapping[h] = canonical
    return mapping


def _calendar_date(s: pl.Series) -> pl.Series:
    """The date of a Date or Datetime column; a timezone-aware one is read in Beijing time."""
    dtype = s.dtype
    if dtype == pl.Date:
        return s
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        s = s.dt.convert_time_zone(BEIJING)
    return s.dt.date()


def _typed(col: Column, s: pl.Series) -> tuple[pl.Series, pl.Series] | None:
    """(value, error) of a typed Parquet column that needs no text parsing, else None.

    Gives what the text normaliser gives for the same values: a Date keeps its
    year-range check, a Datetime drops its time part (after conversion to Beijing time when
    it has a time zone), a Date or Datetime in a month column is its month, a Decimal of at
    most two decimals becomes exact fen (negative or above the cap is an error), a Boolean null
    is false.
    """
    dtype = s.dtype
    if col.kind in ("date", "month") and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        value = _calendar_date(s)
        bad = value.is_not_null() & ~value.dt.year().is_between(1900, 2100)
        reason = "日期格式错误" if col.kind == "date" else "月份格式错误"
        error = pl.select(pl.when(bad).then(pl.lit(reason))).to_series()
        if col.kind == "month":
            value = value.dt.strftime("%Y-%m")
        value = pl.select(pl.when(error.is_null()).then(value)).to_series()
    elif (col.kind == "amount" and isinstance(dtype, pl.Decimal) and dtype.scale <= 2
          and (dtype.precision or 38) - dtype.scale <= 15):
        value = (s * 100).cast(pl.Int64)
        error = pl.select(pl.when(value < 0).then(pl.lit("金额为负"))
                          .when(value > N.AMOUNT_CAP_FEN).then(pl.lit("金额超出合理上限"))).to_series()
        value = pl.select(pl.when(error.is_null()).then(value)).to_series()
    elif col.kind == "bool" and dtype == pl.Boolean:
        value, error = s.fill_null(False), pl.repeat(None, s.len(), dtype=pl.String, eager=True)
    else:
        return None
    if not col.nullable:
        error = pl.select(pl.when(s.is_null()).then(pl.lit("必填字段为空")).otherwise(error)).to_series()
    return value, error


def _unusable_type(dtype: pl.DataType) -> bool:
    """A Parquet type no contract column can mean: nested, duration, binary or object."""
    return dtype.is_nested() or isinstance(dtype, (pl.Duration, pl.Binary, pl.Object))


def _check_parquet_types(path: Path, table: Table, schema: Mapping[str, pl.DataType],
                         mapping: dict[str, str]) -> None:
    """Refuse a file whose contract column has a type no value of its kind can have.

    ``mapping``: file column -> contract column. Other columns are never read, whatever their type.
    """
    for header, name in mapping.items():
        dtype = schema[header]
        if _unusable_type(dtype):
            col = table.column(name)
            zh, en = _EXPECTED_TYPES.get(col.kind, ("文本", "String"))
            raise AuditInputError(
                f"{path}: 列 {header}（{table.label}表的 {name}）的类型为 {dtype}，应为{zh}，文件无法使用 "
                f"(column {header!r} has type {dtype}, expected {en})"
            )


def _shared_struct(value: pl.Expr, error: pl.Expr) -> pl.Expr | None:
    """The struct a normaliser's value and error are both fields of (to evaluate it once), or None."""
    try:
        (a,), (b,) = value.meta.pop(), error.meta.pop()
    except ValueError:
        return None
    same = (a.meta.eq(b) and value.meta.eq(a.struct.field("value"))
            and error.meta.eq(a.struct.field("error")))
    return a if same else None


def _evaluate(col: Column, frame: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    """value, error (+ key for addresses, with the profile's place names) of the text column ``raw``.

    In free text (str, address) control characters are spaces (data-contract.md).
    """
    raw = N.free_text(pl.col("raw")) if col.kind in ("str", "address") else pl.col("raw")
    raw = raw.str.strip_chars()
    raw = pl.when(raw == "").then(None).otherwise(raw)
    if col.kind in _NORMALISERS:
        value, error = _NORMALISERS[col.kind](raw)
    else:  # free text (str, address)
        value, error = raw, pl.lit(None, pl.String)
    key = [N.address_key(raw, profile.address.levels()).alias("key")] if col.kind == "address" else []
    shared = _shared_struct(value, error)
    if shared is not None:
        out = frame.select(shared.alias("st"), raw.is_null().alias("null"), *key)
        out = out.with_columns(pl.col("st").struct.field("value", "error")).drop("st")
    else:
        out = frame.select(value.alias("value"), error.alias("error"), raw.is_null().alias("null"), *key)
    if not col.nullable:
        out = out.with_columns(error=pl.when("null").then(pl.lit("必填字段为空")).otherwise("error"))
    return out.select("value", "error", *(["key"] if key else []))


def _text_columns(col: Column, s: pl.Series, profile: Profile) -> list[pl.Series]:
    """Normalise a text column: [value, error] (+ address key).

    A column whose values repeat a lot (months, codes, streets, dates as text)
    is normalised once per distinct value and mapped back by position: less
    work, and the result's strings share one buffer (less memory). Below
    ``DEDUP_REPEATS`` (default 8) repeats per value the hashing costs more than it saves.
    """
    repeats = DEDUP_REPEATS.get(col.kind, 8)
    long_text = col.kind != "str" or (s.head(1000).str.len_bytes().max() or 0) > 12  # type: ignore[operator]  # polars stub: max() of a UInt32 Series is an int, typed as any literal
    n_distinct: int | None = s.approx_n_unique() if long_text and s.len() > DEDUP_MIN_ROWS else None  # type: ignore[assignment]  # polars stub: approx_n_unique() is an int count, typed as any literal
    if n_distinct is not None and n_distinct * repeats <= s.len():
        distinct: pl.Series | None = None
        index: pl.Series | None = None
        if n_distinct > FEW_DISTINCT:  # many values: map by 64-bit hashes (fast); a collision is caught below
            hashes = s.hash()
            first = hashes.is_first_distinct()
            distinct = s.filter(first)
            index = hashes.replace_strict(hashes.filter(first),
                                          pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True))
        if (distinct is None or index is None
                or not distinct.gather(index).eq_missing(s).all()):  # a few codes, or a collision
            distinct = s.unique()
            lookup = _normalise(col, distinct, profile)
            if _kept_inline(lookup, distinct):  # codes already canonical: the column is its own value
                return [s, pl.repeat(None, s.len(), dtype=pl.String, eager=True)]
            index = s.replace_strict(distinct, pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True))
        else:
            lookup = _normalise(col, distinct, profile)
        return [lookup[c].gather(index) for c in lookup.columns]
    out = _normalise(col, s, profile)
    return [out[c] for c in out.columns]


def _kept_inline(lookup: pl.DataFrame, distinct: pl.Series) -> bool:
    """Every distinct value is its own normal form, without error, and short enough to be stored inline
    (12 bytes): mapping the rows to the distinct values would give the raw column, and save no memory."""
    return bool(lookup.columns == ["value", "error"] and lookup["value"].dtype == pl.String
            and lookup["error"].null_count() == lookup.height
            and lookup["value"].eq_missing(distinct).all()
            and (distinct.str.len_bytes().max() or 0) <= 12)  # type: ignore[operator]  # polars stub: max() of a UInt32 Series is an int


def _categorical_column(col: Column, s: pl.Series, profile: Profile) -> list[pl.Series] | None:
    """value (a Categorical: ``auditor.ingest.compact``), error of a text column of few distinct values,
    normalised once per distinct value; None when its values are not few (or it is an address).

    The column is cast to a categorical once: a column whose distinct values are all in normal form
    is its own value; otherwise the rows are mapped to their value by their category codes.
    """
    repeats = DEDUP_REPEATS.get(col.kind, 8)
    if col.kind == "address" or s.len() <= DEDUP_MIN_ROWS:
        return None
    n_distinct: int = s.approx_n_unique()  # type: ignore[assignment]  # polars stub: an int count, typed as any literal
    if n_distinct > FEW_DISTINCT or n_distinct * repeats > s.len():
        return None
    cat = s.cast(pl.Categorical)
    codes = cat.to_physical()
    first = codes.arg_unique()  # the first row of each distinct value (and of the nulls)
    distinct = s.gather(first)
    lookup = _normalise(col, distinct, profile)
    if (lookup["value"].dtype == pl.String and lookup["error"].null_count() == lookup.height
            and lookup["value"].eq_missing(distinct).all()):
        return [cat, pl.repeat(None, s.len(), dtype=pl.String, eager=True)]
    known = codes.gather(first).to_numpy()
    present = ~np.isnan(known) if known.dtype.kind == "f" else np.ones(len(known), dtype=bool)
    position = np.zeros(int(np.nanmax(known, initial=0)) + 1, dtype=np.uint32)  # category code -> distinct value
    position[known[present].astype(np.int64)] = np.flatnonzero(present).astype(np.uint32)
    index = pl.Series(position[codes.fill_null(0).to_numpy()])
    if s.null_count():
        index = pl.select(pl.when(codes.is_null()).then(int(np.flatnonzero(~present)[0])).otherwise(index)
                          .cast(pl.UInt32)).to_series()
    return [lookup["value"].cast(pl.Categorical).gather(index), lookup["error"].gather(index)]


def _column(col: Column, s: pl.Series, profile: Profile, categorical: bool = False) -> Sequence[pl.Series]:
    """value, error (+ address key) of one column; ``categorical``: a text column of few distinct values
    gives its value as a Categorical (``_categorical_column``)."""
    out = _typed(col, s)
    if out is not None:
        return out
    text = s if s.dtype == pl.String else s.cast(pl.String)
    few = _categorical_column(col, text, profile) if categorical else None
    return few if few is not None else _text_columns(col, text, profile)


def _normalise(col: Column, s: pl.Series, profile: Profile) -> pl.DataFrame:
    """value, error (+ key) of the text values ``s``.

    Values already in normal form (``N.canonical``: nearly every row of an export; for addresses
    ``N.plain_address``) keep their raw value: no string is rewritten or copied; nulls get what the
    normaliser gives a null (no value; an error only in a required column); only the others (spaces,
    full-width digits, errors ...) go through the normaliser.
    """
    if col.kind not in N.CANONICAL_KINDS and not (col.kind == "address" and PLAIN_ADDRESSES):
        return _evaluate(col, s.to_frame("raw"), profile)
    if col.kind == "address":
        places = profile.address.levels()
        plain = s.to_frame("raw").select(N.plain_address(pl.col("raw"), places).fill_null(False)).to_series()
    else:
        plain = N.canonical_mask(col.kind, s)
    rest = ~plain & s.is_not_null()
    n_rest = int(rest.sum())
    if n_rest == s.len():
        return _evaluate(col, s.to_frame("raw"), profile)
    error = pl.repeat(None, s.len(), dtype=pl.String, eager=True)
    if not col.nullable and s.null_count():
        error = pl.select(pl.when(s.is_null()).then(pl.lit("必填字段为空")).otherwise(error)).to_series()
    out = {"value": s, "error": error}
    if col.kind == "address":
        out["key"] = s.to_frame("raw").select(N.plain_address_key(pl.col("raw"))).to_series()
    if n_rest:
        where = rest.arg_true()
        other = _evaluate(col, s.filter(rest).to_frame("raw"), profile)
        out = {name: (values.clone() if name == "value" else values).scatter(where, other[name])
               for name, values in out.items()}
    return pl.DataFrame(out)


class _Source:
    """The raw columns of one table file, by canonical name.

    A Parquet file is read one column at a time (only the contract's columns:
    projection), so a big table never sits in memory raw all at once.
    """

    def __init__(self, path: Path, table: Table, profile: Profile, window: tuple[int, int] | None = None) -> None:
        self.path, self.table = path, table
        self.line = self.sheet = self.broken = None  # CSV/XLSX: where each row is, rows that could not be read
        self.numbers: dict[str, pl.Series] = {}
        self.skipped: dict[str, int] = {}
        self.sheets: list[str] = []
        if path.suffix.lower() == ".parquet":
            try:
                schema = pl.read_parquet_schema(path)
            except Exception as exc:
                raise AuditInputError(f"{path}: 文件无法读取 (cannot read: {exc})") from None
            mapping = header_map(table, list(schema), path, profile)
            _check_parquet_types(path, table, schema, mapping)
            self.original = {c: h for h, c in mapping.items()}
            self.names = list(self.original)
            self.frame = None  # read column by column ...
            if window is not None:  # ... or rows [offset, offset + length) of every column (a streamed batch)
                try:
                    self.frame = (pl.scan_parquet(path).select(list(mapping)).slice(*window).collect()
                                  .rename(mapping))
                except Exception as exc:
                    raise AuditInputError(f"{path}: 文件无法读取 (cannot read: {exc})") from None
                self.height = self.frame.height
            elif path.stat().st_size < WHOLE_READ_MAX_BYTES:  # ... unless small: one read is quicker
                self.frame = read_raw(path, table, columns=list(mapping)).rename(mapping)
                self.height = self.frame.height
            else:
                try:
                    self.height = pl.scan_parquet(path).select(pl.len()).collect().item()
                except Exception as exc:
                    raise AuditInputError(f"{path}: 文件无法读取 (cannot read: {exc})") from None
        else:
            try:
                text = _read_text(path, table, profile)
            except AuditInputError:
                raise
            except Exception as exc:
                raise _unreadable(path, exc) from None
            self.frame, self.line, self.sheet, self.broken = text.frame, text.line, text.sheet, text.broken
            self.numbers, self.skipped, self.sheets = text.numbers, text.skipped, text.sheets
            self.height, self.names = self.frame.height, self.frame.columns

    def get(self, name: str) -> pl.Series:
        if self.frame is not None:
            return self.frame.get_column(name)
        try:
            return pl.read_parquet(self.path, columns=[self.original[name]]).to_series().alias(name)
        except Exception as exc:
            raise AuditInputError(f"{self.path}: 文件无法读取 (cannot read: {exc})") from None

    def release(self, name: str) -> None:
        if self.frame is not None:
            self.frame.drop_in_place(name)  # no new frame (``drop`` builds one through a query plan)

    def extras(self) -> pl.DataFrame | None:
        """Columns that are not the contract's (CSV/XLSX only: Parquet is projected), as text."""
        known = {c.name for c in self.table.columns}
        extra = [c for c in self.names if c not in known]
        return self.frame.select(pl.col(extra).cast(pl.String)) if extra and self.frame is not None else None


def _columns(columns: list[Column], source: _Source, profile: Profile, workers: int,
             categorical: frozenset[str] = frozenset()) -> Iterator[tuple[Column, pl.Series, Sequence[pl.Series]]]:
    """Yield (column, raw, outputs) in order, reading and normalising ``workers`` columns at a time in
    threads (polars releases the GIL, and many string kernels use one core), without holding
    every column at once. ``categorical``: the columns whose values are given as categoricals."""
    def work(col: Column) -> tuple[pl.Series, Sequence[pl.Series]]:
        raw = source.get(col.name)
        return raw, _column(col, raw, profile, col.name in categorical)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[Column, Future[tuple[pl.Series, Sequence[pl.Series]]]]] = deque()
        for col in columns:
            pending.append((col, pool.submit(work, col)))
            if len(pending) >= workers:
                c, fut = pending.popleft()
                yield c, *fut.result()
        while pending:
            c, fut = pending.popleft()
            yield c, *fut.result()


def load_table(path: Path, table: Table, profile: Profile, window: tuple[int, int] | None = None, *,
               workers: int = COLUMN_WORKERS, compact: bool = False) -> tuple[pl.DataFrame, pl.DataFrame, TableStats]:
    """Read, map, normalise and quarantine one table file, ``workers`` columns at a time.

    ``window`` (Parquet only): (offset, length) of the rows to load, a batch of a streamed table; the
    batch's accepted rows keep ``_row`` (source row) and its keys are not checked for duplicates
    (``load_streamed`` does that across batches). ``compact``: the few-valued text columns of
    ``auditor.ingest.compact`` come as categoricals when their values are few (cast once, normalised
    per category); ``compact.compact`` converts the others.
    """
    source = _Source(path, table, profile, window)
    known = [c for c in table.columns if c.name in source.names]
    absent = [c for c in table.columns if c.name not in source.names]
    for col in absent:
        if col.required:
            raise AuditInputError(
                f"{path}: 缺少必需列 {col.name}（{col.label}），应为 {table.label}表的 {col.kind} 列 "
                f"(missing required column {col.name!r})"
            )
    n = source.height
    first = 1 + (window[0] if window is not None else 0)
    rows = pl.int_range(first, first + n, dtype=pl.Int64, eager=True).alias("_row")

    where = {"_line": source.line} if source.line is not None else {}
    if source.sheet is not None:
        where["_sheet"] = source.sheet
    location = (pl.format("{} 第{}行", "_sheet", "_line") if "_sheet" in where
                else pl.format("第{}行", "_line") if where else pl.lit(None, pl.String))

    def quarantined(mask: pl.Series, raw: pl.Series, reason: pl.Series | str) -> pl.DataFrame:
        frame = pl.DataFrame({"source_row": rows, "value": raw.cast(pl.String), "reason": reason, **where})
        return frame.filter(mask).rechunk().select(  # one chunk: polars 2.1 can panic formatting gathered strings
            pl.lit(table.name).alias("table"), "source_row", pl.lit(raw.name or None, pl.String).alias("column"),
            "value", "reason", location.alias("location"))

    values: dict[str, pl.Series] = {"_row": rows}
    quarantine: list[pl.DataFrame] = []
    bad = key_raw = None
    unread = None  # CSV rows that could not be parsed: one quarantine line each, no column errors
    if source.broken is not None and source.broken.null_count() < n:
        unread = source.broken.is_not_null()
        quarantine.append(quarantined(unread, pl.repeat(None, n, dtype=pl.String, eager=True).alias(""),
                                      source.broken))
        bad = unread
    # each raw column is released once normalised (memory)
    categorical = frozenset(compact_columns(table.name)) if compact else frozenset()
    for col, raw, out in _columns(known, source, profile, workers, categorical):
        values[col.name], error = out[0], out[1]
        if col.kind == "address":
            values[f"{col.name}_key"] = out[2]
        lost = _number_lost(col, raw, error, source.numbers.get(col.name))
        if lost is not None:
            error = pl.select(pl.when(lost).then(pl.lit(NUMBER_LOST[col.kind][0])).otherwise(error)).to_series()
        if error.null_count() < n:
            failed = error.is_not_null() if unread is None else error.is_not_null() & ~unread
            quarantine.append(quarantined(failed, raw, error))
            bad = failed if bad is None else bad | failed
        if col.name == table.key:
            key_raw = raw
        source.release(col.name)
        del raw, out, error
    extras = source.extras()
    good = pl.DataFrame(values).hstack(extras) if extras is not None else pl.DataFrame(values)
    del values, extras
    if bad is not None:
        good = good.filter(~bad)
    if key_raw is not None and table.key is not None and window is None:
        dup = _duplicated(good.get_column(table.key))
        if dup is not None:
            label = f"{table.column(table.key).label}重复，无法判断哪一行有效（duplicate key）"
            keep = rows.is_in(good.filter(dup)["_row"].implode())
            quarantine.append(quarantined(keep, key_raw, label))
            good = good.filter(~dup)

    fill = [pl.lit(None, _DTYPES.get(c.kind, pl.String)).alias(c.name) for c in absent]
    fill += [pl.lit(None, pl.String).alias(f"{c.name}_key") for c in absent if c.kind == "address"]
    # One chunk per column: polars 2.1 can panic (binview index out of range) on some
    # expressions over multi-chunk string columns built from gathered distinct values.
    accepted = (good.with_columns(fill) if fill else good).rechunk()
    q = pl.concat(quarantine) if quarantine else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    q = q.cast(QUARANTINE_SCHEMA)  # type: ignore[arg-type]
    stats = TableStats(file=path.name, read=n, accepted=accepted.height, quarantined=n - accepted.height,
                       missing_columns=[c.name for c in absent], sheets=source.sheets, **source.skipped)
    return accepted, q, stats


def _ascending(keys: pl.Series, after: Any = None) -> bool:
    """Whether every key is greater than the one before it (and than ``after``, when given), no key
    null: then no key repeats. An export sorted by its key is told in one comparison pass."""
    if keys.null_count():
        return False
    if after is not None and keys.len() and not keys[0] > after:
        return False
    return keys.len() < 2 or bool((keys.slice(1) > keys.slice(0, keys.len() - 1)).all())


def _duplicated(keys: pl.Series) -> pl.Series | None:
    """``keys.is_duplicated()``, or None when no key repeats (told from keys in ascending order, else by
    sorting the keys' hashes first: ``auditor.core.repeats``)."""
    if _ascending(keys):
        return None
    found = duplicated(keys.to_frame("key"), ["key"])
    return found if found.any() else None


def _number_lost(col: Column, raw: pl.Series, error: pl.Series, numbers: pl.Series | None) -> pl.Series | None:
    """Rows whose resident id / account was stored as a number (digits lost): an XLSX number cell, or
    text in Excel's scientific notation (``3.10105E+17``); None when the column cannot have any."""
    if col.kind not in NUMBER_LOST:
        return None
    lost = numbers
    if error.null_count() < error.len():  # scientific notation never passes the normaliser
        text = raw.cast(pl.String).str.strip_chars().str.contains(SCIENTIFIC).fill_null(False)
        lost = text & error.is_not_null() if lost is None else lost | (text & error.is_not_null())
    return lost


def _split(mask: pl.Series, parts: list[tuple[Path, pl.Series]]) -> Iterator[pl.Series]:
    """``mask`` (over every part's rows, in order) cut into one slice per part."""
    offset = 0
    for _, rows in parts:
        yield mask.slice(offset, rows.len())
        offset += rows.len()


def _parquet_height(path: Path) -> int:
    try:
        return int(pl.scan_parquet(path).select(pl.len()).collect().item())
    except Exception as exc:
        raise AuditInputError(f"{path}: 文件无法读取 (cannot read: {exc})") from None


def write_part(part: Path, rows: pl.DataFrame, name: str, compact: bool) -> None:
    """Rows of table ``name`` (a streamed batch's accepted rows) as a part file of the spill (lz4 Parquet,
    owner-only; ``compact``: few-valued text columns as categoricals)."""
    with private_open(part, "wb") as f:
        (compact_frame(name, rows) if compact else rows).write_parquet(f, compression="lz4")


def load_streamed(path: Path, table: Table, profile: Profile, batch_rows: int,
                  new_part: Callable[[], Path], compact: bool = False) -> tuple[pl.DataFrame, TableStats]:
    """Load a Parquet table ``batch_rows`` rows at a time, writing each batch's accepted rows to a
    part file (``new_part()``: Parquet in an owner-only folder): the table is never in memory whole,
    raw or normalised.

    Same rows, values, quarantine and stats as ``load_table``; duplicate keys are found across
    batches from the key column alone. A batch's part is written in a thread while the next batch
    loads (the writing uses one core): two batches in memory at most. Returns (quarantine, stats).
    """
    n = _parquet_height(path)
    parts: list[tuple[Path, pl.Series]] = []  # (file, source rows of its accepted rows)
    hashes: list[pl.Series] = []  # of the accepted rows' keys: 8 bytes a row, where the keys may take 30
    ascending, last = True, None  # keys ascending so far (then no key repeats, and none is hashed); the last one
    quarantine, accepted = [], 0
    missing: list[str] = []
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spill-part")
    written: Future[None] | None = None  # the previous batch's part being written
    try:
        for offset in range(0, n, batch_rows):
            frame, q, stats = load_table(path, table, profile, window=(offset, batch_rows), compact=compact)
            if written is not None:  # done before the parts are read back or another batch waits
                written.result()
            if table.key is not None:
                batch_keys = frame.get_column(table.key)
                if ascending:
                    ascending = _ascending(batch_keys, last)
                    last = batch_keys[-1] if batch_keys.len() else last
                    if not ascending:  # the earlier batches' keys, read back from their parts
                        hashes = [pl.read_parquet(part, columns=[table.key]).to_series().hash() for part, _ in parts]
                if not ascending:
                    hashes.append(batch_keys.hash())
                del batch_keys
            part = new_part()
            written = writer.submit(write_part, part, frame.drop("_row"), table.name, compact)
            parts.append((part, frame.get_column("_row")))
            quarantine.append(q)
            accepted, missing = accepted + frame.height, stats.missing_columns
            del frame
        if written is not None:
            written.result()
    finally:
        writer.shutdown()
    if table.key is not None and hashes:
        every = pl.concat(hashes)
        del hashes
        candidates = repeated_hashes(every)
        dup = pl.Series("_row", [], dtype=pl.Int64)
        if candidates is not None:  # the keys of the rows whose hash repeats, read back from the parts
            where = every.is_in(candidates.implode())
            keys = pl.concat([pl.read_parquet(part, columns=[table.key]).filter(mask)
                              for (part, _), mask in zip(parts, _split(where, parts), strict=True)])
            repeated = exactly(where, keys)
            if repeated is not None:
                dup = pl.concat([r for _, r in parts]).filter(repeated)
        del every
        if dup.len():
            original = {c: h for h, c in header_map(table, list(pl.read_parquet_schema(path)), path, profile).items()}
            label = f"{table.column(table.key).label}重复，无法判断哪一行有效（duplicate key）"
            quarantine.append(
                pl.scan_parquet(path).select(pl.col(original[table.key]).cast(pl.String).alias("value"))
                .with_row_index("source_row", offset=1).filter(pl.col("source_row").is_in(dup.implode()))
                .select(pl.lit(table.name).alias("table"), pl.col("source_row").cast(pl.Int64),
                        pl.lit(table.key).alias("column"), "value", pl.lit(label).alias("reason"),
                        pl.lit(None, pl.String).alias("location")).collect())
            for part, source_rows in parts:  # rewrite the parts holding a duplicate
                drop = source_rows.is_in(dup.implode())
                if drop.any():
                    kept = pl.read_parquet(part).filter(~drop)
                    with private_open(part, "wb") as f:
                        kept.write_parquet(f, compression="lz4")
            accepted -= dup.len()
    q = pl.concat(quarantine).cast(QUARANTINE_SCHEMA)  # type: ignore[arg-type]
    return q, TableStats(file=path.name, read=n, accepted=accepted, quarantined=n - accepted,
                         missing_columns=missing)


def load_drop(directory: str | Path, profile: Profile, only: set[str] | None = None,
              on_table: Callable[[str], None] | None = None, stream_rows: int | None = None,
              compact: bool = False) -> Drop:
    """Load every table present in ``directory``; required tables must be there.

    ``only``: the optional tables to load (required ones always are). See ``load_tables``.
    """
    names = [name for name, table in TABLES.items() if only is None or name in only or table.required]
    return load_tables(directory, profile, names, on_table=on_table, stream_rows=stream_rows, compact=compact)


@dataclass
class _Job:
    index: int  # position in contract order
    name: str
    path: Path
    streamed: bool


def load_tables(directory: str | Path, profile: Profile, names: Iterable[str],
                on_table: Callable[[str], None] | None = None, stream_rows: int | None = None,
                compact: bool = False) -> Drop:
    """Load the tables ``names`` of ``directory``: a required one must be there, an absent optional one
    is skipped.

    The biggest files first, ``TABLE_WORKERS`` tables at a time in threads (a table that is streamed
    loads alone); the results are those of loading them one after the other in contract order, and so
    is the error: the first table in contract order that fails raises its ``AuditInputError`` (later
    tables may not be loaded). ``on_table`` is called in the calling thread once per table (progress).
    ``stream_rows``: a Parquet table of more rows is loaded in batches of that many rows and kept on
    disk (``auditor.ingest.spill``) instead of in memory, with the same results. ``compact``: each
    table's few-valued text columns are held as categoricals as soon as it is loaded
    (``auditor.ingest.compact``).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise AuditInputError(f"数据目录 {directory} 不存在 (data drop folder not found)")
    wanted = set(names)
    if not wanted <= TABLES.keys():
        raise ValueError(f"not tables of the contract: {sorted(wanted - TABLES.keys())}")
    jobs: list[_Job] = []
    errors: dict[int, Exception] = {}  # contract position -> what loading that table raised
    first_error = len(TABLES)  # the smallest such position (read by the loading threads)
    for index, (name, table) in enumerate((n, t) for n, t in TABLES.items() if n in wanted):
        try:
            path = find_table_file(directory, table)
            if path is None:
                if table.required:
                    raise AuditInputError(
                        f"{directory}: 缺少必需的数据表 {name}（{table.label}），"
                        f"应为 {name}.csv / {name}.xlsx / {name}.parquet (missing required table)"
                    )
                if on_table is not None:
                    on_table(f"{name}: absent")
                continue
            streamed = (stream_rows is not None and stream_rows > 0 and path.suffix.lower() == ".parquet"
                        and _parquet_height(path) > stream_rows)
        except AuditInputError as exc:
            errors[index], first_error = exc, index
            break  # later tables cannot decide the error
        jobs.append(_Job(index, name, path, streamed))
    jobs.sort(key=lambda j: (not j.streamed, -j.path.stat().st_size))
    spill = SpilledTables() if any(j.streamed for j in jobs) else None  # its folder only when needed
    column_workers = max(1, COLUMN_WORKERS // TABLE_WORKERS)  # per table loaded alongside another

    def load(job: _Job) -> tuple[pl.DataFrame | None, pl.DataFrame, TableStats] | None:
        if job.index > first_error:
            return None  # a table before it failed: its result cannot be used
        table = TABLES[job.name]
        if job.streamed:
            assert spill is not None and stream_rows is not None
            q, stats = load_streamed(job.path, table, profile, stream_rows, partial(spill.new_part, job.name),
                                     compact=compact)
            return None, q, stats
        accepted, q, stats = load_table(job.path, table, profile, workers=column_workers, compact=compact)
        frame = accepted.drop("_row")  # source rows matter only for the quarantine (memory)
        del accepted
        return (compact_frame(job.name, frame) if compact else frame), q, stats

    loaded: dict[int, tuple[pl.DataFrame | None, pl.DataFrame, TableStats]] = {}

    def record(job: _Job, run: Callable[[], tuple[pl.DataFrame | None, pl.DataFrame, TableStats] | None]) -> None:
        nonlocal first_error
        try:
            result = run()
        except Exception as exc:
            errors[job.index], first_error = exc, min(first_error, job.index)
            return
        if result is not None:
            loaded[job.index] = result
            if on_table is not None:
                on_table(f"{job.name}: {result[2].read:,} rows")

    for job in (j for j in jobs if j.streamed):  # alone: the streamed path bounds the memory
        record(job, partial(load, job))
    pool = ThreadPoolExecutor(max_workers=TABLE_WORKERS, thread_name_prefix="load-table")
    try:
        futures = {pool.submit(load, job): job for job in jobs if not job.streamed}
        for fut in as_completed(futures):
            record(futures[fut], fut.result)
    finally:
        pool.shutdown(cancel_futures=True)
    if errors:
        raise errors[min(errors)]
    jobs.sort(key=lambda j: j.index)
    tables: dict[str, pl.DataFrame] = {}
    stats, quarantines = {}, []
    for job in jobs:
        frame, q, stats[job.name] = loaded.pop(job.index)
        quarantines.append(q)
        if frame is not None:
            if spill is not None:
                spill.put(job.name, frame)
            else:
                tables[job.name] = frame
    if spill is not None:
        spill.arrange([j.name for j in jobs])  # contract order, as if loaded one after the other
    quarantine = pl.concat(quarantines) if quarantines else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return Drop(directory, spill if spill is not None else tables, stats,
                quarantine.sort("table", "source_row", "column"))
