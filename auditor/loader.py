"""Load a month's data drop (``data-contract.md``) into normalised polars frames.

Every table is read (CSV in UTF-8/UTF-8-BOM/GBK/GB18030 and XLSX as text;
Parquet with its own types, reading only the contract's columns), its headers
mapped from English or Chinese names, and each known column run through its
normaliser. Typed Parquet columns that need no parsing (Date, Decimal amounts,
Boolean) skip the text normalisers with the same result; a text column whose
values repeat is normalised once per distinct value. A row with any bad value
is quarantined (one quarantine line per bad value) and never reaches the rules; for every table
rows read = rows accepted + rows quarantined. Unusable input raises
``AuditInputError`` naming the file and column.
"""

from __future__ import annotations

import io
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Callable

import polars as pl

from auditor import normalize as N
from auditor.config import Profile
from auditor.errors import AuditInputError
from auditor.schema import TABLES, Column, Table

EXTENSIONS = (".csv", ".xlsx", ".parquet")
QUARANTINE_SCHEMA = {"table": pl.String, "source_row": pl.Int64, "column": pl.String,
                     "value": pl.String, "reason": pl.String}

_CODES = {
    "program": (N.PROGRAMS, "救助类型无法识别"),
    "case_status": (N.CASE_STATUS, "案件状态无法识别"),
    "ledger_status": (N.LEDGER_STATUS, "支付状态无法识别"),
    "relation": (N.RELATIONS, "亲属关系无法识别"),
    "member_relation": (N.MEMBER_RELATIONS, "与领款人关系无法识别"),
    "staff_role": (N.STAFF_ROLES, "岗位无法识别"),
    "review_cycle": (N.REVIEW_CYCLES, "核查周期无法识别"),
    "business_role": (N.BUSINESS_ROLES, "市场主体角色无法识别"),
    "penalty_kind": (N.PENALTY_KINDS, "刑罚类型无法识别"),
}
_NORMALISERS = {
    "person_id": N.person_id, "month": N.month, "date": N.date, "amount": N.amount,
    "bool": N.boolean, "account": N.account, "phone": N.phone,
    **{kind: partial(N.code, mapping=m, reason=r) for kind, (m, r) in _CODES.items()},
}
_DTYPES = {"date": pl.Date, "amount": pl.Int64, "bool": pl.Boolean}
DEDUP_MIN_ROWS = 10_000  # below this, normalising every row is as quick as deduplicating
# Repeats per distinct value from which a column is normalised per distinct value: free text
# gains only when its values are too long to be stored inline (12 bytes); the id checksum is
# costly enough to gain from ~3 (a payee's id recurs every month of the export), the dwelling key
# (a dozen regex passes, ~2 µs a value) from 1.5 (members of one household share an address).
DEDUP_REPEATS = {"str": 10, "person_id": 3, "address": 1.5}
FEW_DISTINCT = 50_000  # up to this many distinct values, exact unique + replace beats hashing
WHOLE_READ_MAX_BYTES = 16 * 2**20  # a smaller Parquet file is read at once, a bigger one column by column


@dataclass
class TableStats:
    file: str
    read: int
    accepted: int
    quarantined: int
    missing_columns: list[str] = field(default_factory=list)


@dataclass
class Drop:
    directory: Path
    tables: dict[str, pl.DataFrame]
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


def _cell_text(value) -> str | None:
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


def _read_xlsx(path: Path, table: Table) -> pl.DataFrame:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise AuditInputError(f"{path}: 无法读取 Excel 文件 (cannot read xlsx: {exc})") from None
    try:
        names = {table.name, table.label}
        ws = next((wb[n] for n in wb.sheetnames if n in names), wb.worksheets[0])
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return pl.DataFrame()
        headers = [_cell_text(h) or f"_unnamed_{i}" for i, h in enumerate(header)]
        data = [[_cell_text(v) for v in row] for row in rows if any(v is not None for v in row)]
    finally:
        wb.close()
    columns = list(zip(*data)) if data else [[] for _ in headers]
    return pl.DataFrame({h: pl.Series(h, list(col), dtype=pl.String)
                         for h, col in zip(headers, columns)})


def read_raw(path: Path, table: Table, columns: list[str] | None = None) -> pl.DataFrame:
    """Read a table file: CSV/XLSX as text, Parquet with its own column types.

    ``columns``: Parquet projection (only these columns are read).
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pl.read_csv(io.BytesIO(_decode_csv(path)), infer_schema=False)
        if suffix == ".xlsx":
            return _read_xlsx(path, table)
        schema_names = pl.read_parquet_schema(path).keys()
        keep = [c for c in schema_names if columns is None or c in columns]
        return pl.read_parquet(path, columns=keep)
    except AuditInputError:
        raise
    except Exception as exc:
        raise AuditInputError(f"{path}: 文件无法读取 (cannot read: {exc})") from None


def header_map(table: Table, headers: list[str], path: Path, profile: Profile) -> dict[str, str]:
    """File header -> canonical column (English name, Chinese label or a profile alias); unknown ones left out."""
    lookup: dict[str, str] = {}
    for col in table.columns:
        lookup[col.name.lower()] = col.name
        lookup[col.label] = col.name
    for header, canonical in profile.header_aliases.get(table.name, {}).items():
        lookup[header.strip().lower()] = canonical
    mapping: dict[str, str] = {}
    for h in headers:
        key = h.strip().lstrip("\ufeff")
        canonical = lookup.get(key) or lookup.get(key.lower())
        if canonical is None:
            continue
        if canonical in mapping.values():
            raise AuditInputError(f"{path}: 列 {canonical} 出现多次（header {h!r} duplicates it）")
        mapping[h] = canonical
    return mapping


def _typed(col: Column, s: pl.Series) -> tuple[pl.Series, pl.Series] | None:
    """(value, error) of a typed Parquet column that needs no text parsing, else None.

    Gives what the text normaliser gives for the same values: a Date keeps its
    year-range check, a Datetime without time zone drops its time part, a Decimal of at most two
    decimals becomes exact fen (negative is an error), a Boolean null is false.
    """
    dtype = s.dtype
    if col.kind == "date" and (dtype == pl.Date or (isinstance(dtype, pl.Datetime) and dtype.time_zone is None)):
        value = s if dtype == pl.Date else s.dt.date()
        bad = value.is_not_null() & ~value.dt.year().is_between(1900, 2100)
        error = pl.select(pl.when(bad).then(pl.lit("日期格式错误"))).to_series()
    elif (col.kind == "amount" and isinstance(dtype, pl.Decimal) and dtype.scale <= 2
          and (dtype.precision or 38) - dtype.scale <= 15):
        value = (s * 100).cast(pl.Int64)
        error = pl.select(pl.when(value < 0).then(pl.lit("金额为负"))).to_series()
        value = pl.select(pl.when(error.is_null()).then(value)).to_series()
    elif col.kind == "bool" and dtype == pl.Boolean:
        value, error = s.fill_null(False), pl.repeat(None, s.len(), dtype=pl.String, eager=True)
    else:
        return None
    if not col.nullable:
        error = pl.select(pl.when(s.is_null()).then(pl.lit("必填字段为空")).otherwise(error)).to_series()
    return value, error


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
    """value, error (+ key for addresses, with the profile's place names) of the text column ``raw`` of ``frame``."""
    raw = pl.col("raw").str.strip_chars()
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
    n_distinct = s.approx_n_unique() if s.len() > DEDUP_MIN_ROWS else None
    if (n_distinct is not None and n_distinct * repeats <= s.len()
            and (col.kind != "str" or (s.head(1000).str.len_bytes().max() or 0) > 12)):
        distinct = index = None
        if n_distinct > FEW_DISTINCT:  # many values: map by 64-bit hashes (fast); a collision is caught below
            hashes = s.hash()
            first = hashes.is_first_distinct()
            distinct = s.filter(first)
            index = hashes.replace_strict(hashes.filter(first),
                                          pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True))
        if index is None or not distinct.gather(index).eq_missing(s).all():  # a few codes, or a collision
            distinct = s.unique()
            index = s.replace_strict(distinct, pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True))
        lookup = _evaluate(col, distinct.to_frame("raw"), profile)
        return [lookup[c].gather(index) for c in lookup.columns]
    out = _evaluate(col, s.to_frame("raw"), profile)
    return [out[c] for c in out.columns]


def _column(col: Column, s: pl.Series, profile: Profile) -> list[pl.Series]:
    """value, error (+ address key) of one column."""
    out = _typed(col, s)
    return out if out is not None else _text_columns(col, s if s.dtype == pl.String else s.cast(pl.String), profile)


class _Source:
    """The raw columns of one table file, by canonical name.

    A Parquet file is read one column at a time (only the contract's columns:
    projection), so a big table never sits in memory raw all at once.
    """

    def __init__(self, path: Path, table: Table, profile: Profile) -> None:
        self.path, self.table = path, table
        if path.suffix.lower() == ".parquet":
            try:
                names = list(pl.read_parquet_schema(path))
            except Exception as exc:
                raise AuditInputError(f"{path}: 文件无法读取 (cannot read: {exc})") from None
            mapping = header_map(table, names, path, profile)
            self.original = {c: h for h, c in mapping.items()}
            self.names = list(self.original)
            self.frame = None  # read column by column ...
            if path.stat().st_size < WHOLE_READ_MAX_BYTES:  # ... unless small: one read is quicker
                self.frame = read_raw(path, table, columns=list(mapping)).rename(mapping)
                self.height = self.frame.height
            else:
                try:
                    self.height = pl.scan_parquet(path).select(pl.len()).collect().item()
                except Exception as exc:
                    raise AuditInputError(f"{path}: 文件无法读取 (cannot read: {exc})") from None
        else:
            df = read_raw(path, table)
            self.frame = df.rename(header_map(table, df.columns, path, profile))
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
            self.frame = self.frame.drop(name)

    def extras(self) -> pl.DataFrame | None:
        """Columns that are not the contract's (CSV/XLSX only: Parquet is projected), as text."""
        known = {c.name for c in self.table.columns}
        extra = [c for c in self.names if c not in known]
        return self.frame.select(pl.col(extra).cast(pl.String)) if extra and self.frame is not None else None


def _columns(columns: list[Column], source: _Source, profile: Profile):
    """Yield (column, raw, outputs) in order, reading and normalising a few columns at a time in
    threads (polars releases the GIL, and many string kernels use one core), without holding
    every column at once."""
    def work(col: Column) -> tuple[pl.Series, list[pl.Series]]:
        raw = source.get(col.name)
        return raw, _column(col, raw, profile)

    workers = max(2, min(pl.thread_pool_size(), 4))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for col in columns:
            pending.append((col, pool.submit(work, col)))
            if len(pending) >= workers:
                c, fut = pending.popleft()
                yield c, *fut.result()
        while pending:
            c, fut = pending.popleft()
            yield c, *fut.result()


def load_table(path: Path, table: Table, profile: Profile) -> tuple[pl.DataFrame, pl.DataFrame, TableStats]:
    """Read, map, normalise and quarantine one table file."""
    source = _Source(path, table, profile)
    known = [c for c in table.columns if c.name in source.names]
    absent = [c for c in table.columns if c.name not in source.names]
    for col in absent:
        if col.required:
            raise AuditInputError(
                f"{path}: 缺少必需列 {col.name}（{col.label}），应为 {table.label}表的 {col.kind} 列 "
                f"(missing required column {col.name!r})"
            )
    n = source.height
    rows = pl.int_range(1, n + 1, dtype=pl.Int64, eager=True).alias("_row")

    def quarantined(mask: pl.Series, raw: pl.Series, reason: pl.Series | str) -> pl.DataFrame:
        return pl.DataFrame({"source_row": rows, "value": raw.cast(pl.String), "reason": reason}).filter(mask).select(
            pl.lit(table.name).alias("table"), "source_row", pl.lit(raw.name).alias("column"), "value", "reason")

    values: dict[str, pl.Series] = {"_row": rows}
    quarantine: list[pl.DataFrame] = []
    bad = key_raw = None
    for col, raw, out in _columns(known, source, profile):  # each raw column is released once normalised (memory)
        values[col.name], error = out[0], out[1]
        if col.kind == "address":
            values[f"{col.name}_key"] = out[2]
        if error.null_count() < n:
            quarantine.append(quarantined(error.is_not_null(), raw, error))
            bad = error.is_not_null() if bad is None else bad | error.is_not_null()
        if col.name == table.key:
            key_raw = raw
        source.release(col.name)
        del raw, out, error
    extras = source.extras()
    good = pl.DataFrame(values).hstack(extras) if extras is not None else pl.DataFrame(values)
    del values, extras
    if bad is not None:
        good = good.filter(~bad)
    if key_raw is not None:
        dup = good.get_column(table.key).is_duplicated()
        if dup.any():
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
                       missing_columns=[c.name for c in absent])
    return accepted, q, stats


def load_drop(directory: str | Path, profile: Profile, only: set[str] | None = None,
              on_table: Callable[[str], None] | None = None) -> Drop:
    """Load every table present in ``directory``; required tables must be there.

    ``on_table`` is called once per table of the contract (progress).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise AuditInputError(f"数据目录 {directory} 不存在 (data drop folder not found)")
    tables, stats, quarantines = {}, {}, []
    for name, table in TABLES.items():
        if only is not None and name not in only and not table.required:
            continue
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
        accepted, q, stats[name] = load_table(path, table, profile)
        tables[name] = accepted.drop("_row")  # source rows matter only for the quarantine (memory)
        quarantines.append(q)
        if on_table is not None:
            on_table(f"{name}: {stats[name].read:,} rows")
    quarantine = pl.concat(quarantines) if quarantines else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return Drop(directory, tables, stats, quarantine.sort("table", "source_row", "column"))
