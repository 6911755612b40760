"""The people index of a snapshot: an ``index`` folder beside its tables holding part files
(``part-00000.parquet`` ...) that split the keys into ranges (``parts.json`` lists the parts and the first
key of every part after the first). Each part is sorted by ``key`` in small row groups, so a look-up by
resident id, name, staff id, account, phone or case id opens the one part whose range holds the key
(``bisect`` over the bounds) and reads one or two of its row groups (Parquet statistics, predicate
pushdown) instead of every table. A small drop has one part; the concatenation of the parts in order is
the whole index sorted by key, whatever their number.

Two kinds of rows, one schema (``COLUMNS``):

- ``kind == "person"``: a timeline row, keyed by the resident id it is about (a case they are paid
  for, a membership, a payment, a filing, a death ...); ``table`` names the source table, ``info`` the
  row in a few words (codes shown as their Chinese labels), ``other`` a second person or account.
- any other ``kind`` (``name``, ``staff``, ``account``, ``phone``, ``case``): a look-up key that
  resolves to ``person_id`` (and ``staff_id`` / ``case_id``).

Built when a run writes its snapshot (``auditor.jobs.snapshot.write_snapshot``): in the run itself for a
drop of up to ``INLINE_ROWS`` rows, else by a detached, low-priority child process
(``python -m auditor.jobs.people_index <snapshot folder>``) reading the snapshot's own Parquet files, so a
city or province audit is not made slower by sorting millions of keys; the index appears (its folder
renamed into place whole, files owner-only) a little after the run. The build's memory is bounded whatever
the drop's size: a sample of the keys sets the part ranges (about ``PART_ROWS`` rows each); the tables are
read ``CHUNK_ROWS`` rows at a time and each chunk's index rows are spilled to one file per part; then each
part alone is read, sorted and written. Pages read only snapshots that have their index. Payments and
ledger rows of the snapshot's own month are indexed (each month's snapshot brings its month's money).
A snapshot written before the parts (one sorted ``index.parquet``) is read as an index of one part.
Read by ``auditor.services.search``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from auditor.core.private import private_dir, private_open, write_private_text
from auditor.ingest.schema import TABLES
from auditor.reporting.labels import KIND_LABELS

INDEX_DIR = "index"
PARTS_FILE = "parts.json"
LEGACY_FILE = "index.parquet"  # snapshots indexed before the parts: one sorted file
ROW_GROUP = 8192
INLINE_ROWS = 1_000_000  # larger drops are indexed by a child process
PART_ROWS = 1_000_000  # index rows per part, about: what one part's sort holds in memory (~1 GB peak)
CHUNK_ROWS = 500_000  # source rows read at a time
SAMPLE_EVERY = 64  # every n-th key of each table sets the part ranges
COLUMNS: dict[str, type[pl.DataType] | pl.DataType] = {
    "key": pl.String, "kind": pl.String, "table": pl.String, "person_id": pl.String, "staff_id": pl.String,
    "case_id": pl.String, "street": pl.String, "name": pl.String, "when": pl.String, "amount_fen": pl.Int64,
    "other": pl.String, "info": pl.String}

Source = pl.DataFrame | Path  # a table in memory, or a snapshot's Parquet file of it


def _label(frame: pl.DataFrame, column: str, kind: str) -> pl.Expr:
    """A code column as its Chinese label (unknown codes kept as written)."""
    if column not in frame.columns:
        return pl.lit(None, pl.String)
    return pl.col(column).cast(pl.String).replace(KIND_LABELS.get(kind, {}))


def _col(frame: pl.DataFrame, column: str | None) -> pl.Expr:
    if column is None or column not in frame.columns:
        return pl.lit(None, pl.String)
    return pl.col(column).cast(pl.String)


def _info(frame: pl.DataFrame, *parts: tuple[str, str]) -> pl.Expr:
    """``label value · label value`` of the parts present (``(column, kind)``; kind ``str`` for text)."""
    exprs = [pl.concat_str(pl.lit(f"{_LABEL.get(c, c)} "), _label(frame, c, k)) for c, k in parts if c in frame.columns]
    return pl.concat_str(exprs, separator=" · ", ignore_nulls=True) if exprs else pl.lit(None, pl.String)


_LABEL = {"program": "救助类型", "status": "状态", "relation_to_payee": "与领款人关系", "role": "岗位",
          "relation": "关系", "reason": "原因", "kind": "刑罚类型", "employer": "单位", "plate": "号牌",
          "business_name": "主体", "property_id": "不动产单元", "outcome": "结果", "unit": "认定单位",
          "end_month": "终止月份", "end_date": "终止", "restricted_until": "限制至", "holder_name": "开户人"}


@dataclass(frozen=True)
class Block:
    """One kind of index row made from one table: ``key`` and the other columns name source columns."""

    table: str
    key: str
    kind: str = "person"
    person: str | None = None
    staff: str | None = None
    case: str | None = None
    street: str | None = None
    name: str | None = None
    when: str | None = None
    amount: str | None = None
    other: str | None = None
    info: tuple[tuple[str, str], ...] = field(default=())
    dedupe: bool = False  # one row per (key, person) of the table (payments, ledger: an account per payee)


def _blocks() -> list[Block]:
    b: list[Block] = [
        Block("cases", "payee_id", case="case_id", street="street", when="start_month", amount="monthly_amount",
              other="bank_account", info=(("program", "program"), ("status", "case_status"), ("end_month", "str"))),
        Block("cases", "case_id", kind="case", person="payee_id", case="case_id", street="street"),
        Block("cases", "bank_account", kind="account", person="payee_id", case="case_id", street="street"),
        Block("members", "person_id", case="case_id", street="street", name="name", other="phone",
              info=(("program", "program"), ("relation_to_payee", "member_relation"))),
        Block("members", "name", kind="name", person="person_id", case="case_id", street="street", name="name"),
        Block("members", "phone", kind="phone", person="person_id", case="case_id", street="street", name="name"),
    ]
    for table in ("payments", "ledger"):
        b += [Block(table, "payee_id", case="case_id", street="street", when="_when", amount="amount",
                    other="bank_account", info=(("program", "program"), ("status", "ledger_status"))),
              Block(table, "bank_account", kind="account", person="payee_id", case="case_id", street="street",
                    dedupe=True)]
    b += [
        Block("staff", "person_id", staff="staff_id", street="street", name="name", when="active_from",
              other="bank_account", info=(("role", "staff_role"), ("end_date", "str"))),
        Block("staff", "staff_id", kind="staff", person="person_id", staff="staff_id", street="street", name="name",
              info=(("role", "staff_role"),)),
        Block("staff", "name", kind="name", person="person_id", staff="staff_id", street="street", name="name"),
        Block("staff", "phone", kind="phone", person="person_id", staff="staff_id", street="street"),
        Block("staff", "bank_account", kind="account", person="person_id", staff="staff_id", street="street"),
        Block("accounts", "holder_id", name="holder_name", other="bank_account"),
        Block("accounts", "bank_account", kind="account", person="holder_id", name="holder_name"),
        Block("relations", "person_id", other="relative_id", info=(("relation", "relation"),)),
        Block("relations", "relative_id", other="person_id", info=(("relation", "relation"),)),
        Block("custody_filings", "person_id", when="start_date", other="custodian_id",
              info=(("reason", "str"), ("end_date", "str"))),
        Block("custody_filings", "custodian_id", when="start_date", other="person_id", name="custodian_name",
              info=(("reason", "str"), ("end_date", "str"))),
        Block("kin_filings", "relative_id", staff="staff_id", when="filed_on", other="staff_id",
              info=(("relation", "relation"),)),
        Block("kin_filings", "staff_id", kind="staff_filing", person="relative_id", staff="staff_id",
              when="filed_on", other="relative_id", info=(("relation", "relation"),)),
    ]
    for table, date, amount, info in (
            ("dishonesty", "recorded_on", "amount_defrauded", (("reason", "str"), ("restricted_until", "str"))),
            ("deaths", "died_on", None, ()),
            ("public_payroll", "start_date", None, (("employer", "str"), ("end_date", "str"))),
            ("employment", "start_date", "monthly_income", (("employer", "str"), ("end_date", "str"))),
            ("vehicles", "registered_on", None, (("plate", "str"),)),
            ("businesses", "start_date", None, (("business_name", "str"), ("role", "business_role"))),
            ("real_estate", "registered_on", None, (("property_id", "str"),)),
            ("penalties", "start_date", None, (("kind", "penalty_kind"), ("end_date", "str"))),
            ("applications", "received_on", None, (("program", "program"), ("outcome", "str")))):
        b.append(Block(table, "person_id", street="street", when=date, amount=amount, case="application_id",
                       info=info))
    return b


BLOCKS = _blocks()
INDEXED = list(dict.fromkeys(b.table for b in BLOCKS))  # tables in the order their rows are made
DEDUPE = [i for i, b in enumerate(BLOCKS) if b.dedupe]


def _rows(frame: pl.DataFrame, number: int) -> pl.DataFrame:
    """Block ``number``'s index rows of ``frame`` (a prepared chunk of its table), with ``_b``: the block."""
    b = BLOCKS[number]
    return frame.select(
        key=_col(frame, b.key), kind=pl.lit(b.kind), table=pl.lit(b.table), person_id=_col(frame, b.person or b.key),
        staff_id=_col(frame, b.staff), case_id=_col(frame, b.case), street=_col(frame, b.street),
        name=_col(frame, b.name), when=_col(frame, b.when),
        amount_fen=(pl.col(b.amount).cast(pl.Int64) if b.amount and b.amount in frame.columns
                    else pl.lit(None, pl.Int64)),
        other=_col(frame, b.other), info=_info(frame, *b.info), _b=pl.lit(number, pl.UInt16),
    ).filter(pl.col("key").is_not_null() & (pl.col("key") != "")).cast(COLUMNS)  # type: ignore[arg-type]


# --- reading the tables a chunk at a time -------------------------------------------------------------

def _lazy(source: Source) -> pl.LazyFrame:
    return source.lazy() if isinstance(source, pl.DataFrame) else pl.scan_parquet(source)


def _height(source: Source) -> int:
    return source.height if isinstance(source, pl.DataFrame) else int(
        pl.scan_parquet(source).select(pl.len()).collect().item())


def _chunks(source: Source, size: int) -> Iterator[pl.DataFrame]:
    height = _height(source)
    for offset in range(0, max(height, 1), size):
        yield source.slice(offset, size) if isinstance(source, pl.DataFrame) else (
            pl.scan_parquet(source).slice(offset, size).collect())


def _this_month(frame: pl.LazyFrame | pl.DataFrame, table: str, month: str | None) -> pl.Expr | None:
    """The filter keeping ``month``'s payments or ledger rows (None: every row)."""
    names = frame.collect_schema().names()
    if table in ("payments", "ledger") and month is not None and "month" in names:
        return pl.col("month") == month
    return None


def _prepare(frame: pl.DataFrame, table: str, month: str | None, streets: pl.DataFrame | None) -> pl.DataFrame:
    """A chunk of ``table`` as its blocks read it: the month's money only, ``_when`` of a payment, a
    member's case street and programme."""
    keep = _this_month(frame, table, month)
    if keep is not None:
        frame = frame.filter(keep)
    if table in ("payments", "ledger"):
        date = "month" if table == "payments" else "paid_on"
        frame = frame.with_columns(_when=pl.coalesce(_col(frame, date), _col(frame, "month")))
    if table == "members":
        frame = frame.join(streets if streets is not None else pl.DataFrame(
            schema={"case_id": pl.String, "street": pl.String, "program": pl.String}),
            on="case_id", how="left", maintain_order="left")
    return frame


def _streets(tables: Mapping[str, Source]) -> pl.DataFrame | None:
    cases = tables.get("cases")
    if cases is None or "members" not in tables:
        return None
    return _lazy(cases).select("case_id", "street", "program").collect()


def _table_rows(tables: Mapping[str, Source], month: str | None,
                chunk_rows: int) -> Iterator[tuple[int, int, pl.DataFrame]]:
    """``(table number, chunk number, index rows)`` of every chunk of every indexed table, in order."""
    streets = _streets(tables)
    for t, table in enumerate(INDEXED):
        source = tables.get(table)
        if source is None:
            continue
        numbers = [i for i, b in enumerate(BLOCKS) if b.table == table]
        for c, chunk in enumerate(_chunks(source, chunk_rows)):
            frame = _prepare(chunk, table, month, streets)
            rows = [r for r in (_rows(frame, i) for i in numbers) if r.height]
            if rows:
                yield t, c, pl.concat(rows, how="vertical")


def _bounds(tables: Mapping[str, Source], month: str | None, part_rows: int) -> list[str]:
    """The first key of every part after the first: quantiles of a sample of every block's keys, so that
    each part holds about ``part_rows`` index rows (none for an index that fits one part)."""
    most = sum(_height(s) * sum(b.table == t for b in BLOCKS) for t, s in tables.items())
    if most <= part_rows:
        return []
    sample: list[pl.Series] = []
    for table, source in tables.items():
        lazy = _lazy(source)
        names = lazy.collect_schema().names()
        keep = _this_month(lazy, table, month)
        if keep is not None:
            lazy = lazy.filter(keep)
        for key in dict.fromkeys(b.key for b in BLOCKS if b.table == table and b.key in names):
            sample.append(lazy.select(pl.col(key).cast(pl.String)).filter(
                pl.col(key).is_not_null() & (pl.col(key) != "")).gather_every(SAMPLE_EVERY).collect().to_series())
    keys = pl.concat(sample).sort() if sample else pl.Series(dtype=pl.String)
    parts = -(-keys.len() * SAMPLE_EVERY // part_rows)
    if parts <= 1:
        return []
    cuts = [keys[i * keys.len() // parts] for i in range(1, parts)]
    return sorted(set(cuts))  # a key frequent enough to fill a part makes fewer, larger parts


def _finish(frames: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """One part: its rows sorted by key (a key's rows in block order, then in the tables' order), an
    account of the month's money once per payee."""
    frames = list(frames)
    if not frames:
        return pl.DataFrame(schema=COLUMNS)
    rows = pl.concat(frames, how="vertical").sort(["key", "_b"], maintain_order=True)
    deduped = rows["_b"].is_in(DEDUPE)
    keep = ~deduped
    if deduped.any():  # the first of each (block, key, person) among the rows of those blocks only
        first = rows.filter(deduped).select(pl.struct("_b", "key", "person_id").is_first_distinct()).to_series()
        keep = keep.scatter(deduped.arg_true(), first)
    return rows.filter(keep).drop("_b")


def build_index(tables: Mapping[str, pl.DataFrame], month: str | None = None) -> pl.DataFrame:
    """Every look-up key and timeline row of one snapshot's tables (payments and ledger of ``month`` only,
    when given), sorted by ``key``: the whole index as one frame, in memory (small drops, tests)."""
    return _finish(rows for _, _, rows in _table_rows(tables, month, CHUNK_ROWS))


def write_index(tables: Mapping[str, Source], folder: Path, month: str | None = None, *,
                part_rows: int = PART_ROWS, chunk_rows: int = CHUNK_ROWS) -> int:
    """Write the index of ``tables`` into the new folder ``folder`` (parts and ``parts.json``, owner-only);
    the number of parts. More than one part: each chunk's rows are spilled to a file per part, then the
    parts are sorted one at a time, so memory stays about one chunk's rows or one part's."""
    private_dir(folder)
    bounds = _bounds(tables, month, part_rows)
    spill = folder / ".spill" if bounds else None
    held: list[list[pl.DataFrame]] = [[] for _ in range(len(bounds) + 1)]
    cut = pl.Series(bounds, dtype=pl.String)
    for t, c, rows in _table_rows(tables, month, chunk_rows):
        if spill is None:
            held[0].append(rows)
            continue
        rows = rows.with_columns(_part=cut.search_sorted(rows["key"], side="right"))
        for (part,), frame in rows.partition_by("_part", as_dict=True, include_key=False).items():
            private_dir(spill / f"{part:05d}")
            with private_open(spill / f"{part:05d}" / f"{t:03d}-{c:06d}.parquet", "wb") as f:
                frame.write_parquet(f, compression="lz4", statistics=False)
    names = []
    for part in range(len(held)):
        if spill is None:
            frames = held[part]
        else:
            files = sorted((spill / f"{part:05d}").glob("*.parquet")) if (spill / f"{part:05d}").is_dir() else []
            frames = [pl.read_parquet(f) for f in files]
        name = f"part-{part:05d}.parquet"
        with private_open(folder / name, "wb") as f:
            _finish(frames).write_parquet(f, row_group_size=ROW_GROUP, statistics=True)
        held[part] = []
        if spill is not None:
            shutil.rmtree(spill / f"{part:05d}", ignore_errors=True)
        names.append(name)
    if spill is not None:
        shutil.rmtree(spill, ignore_errors=True)
    write_private_text(folder / PARTS_FILE, json.dumps({"parts": names, "bounds": bounds}, ensure_ascii=False))
    return len(names)


def index_snapshot(folder: Path, **kw: int) -> Path:
    """Build the index of the snapshot in ``folder`` from its own files: written into a hidden sibling
    folder, renamed into place whole."""
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    tables: dict[str, Source] = {name: folder / f"{name}.parquet" for name in TABLES
                                 if (folder / f"{name}.parquet").is_file()}
    stage = folder / f".{INDEX_DIR}.{os.getpid()}"
    try:
        write_index(tables, stage, manifest.get("month"), **kw)
        stage.rename(folder / INDEX_DIR)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return folder / INDEX_DIR


def index_later(folder: Path) -> None:
    """Start a detached, low-priority process that indexes ``folder`` (``index_snapshot`` with this
    process's ``PART_ROWS`` and ``CHUNK_ROWS``)."""
    subprocess.Popen([sys.executable, "-m", "auditor.jobs.people_index", str(folder), str(PART_ROWS),
                      str(CHUNK_ROWS)], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- reading -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Index:
    """One snapshot's index: its part files in key order and the first key of each part after the first."""

    parts: list[Path]
    bounds: list[str]

    def parts_of(self, keys: Iterable[str]) -> list[Path]:
        """The parts that may hold ``keys`` (one per key at most)."""
        return [self.parts[i] for i in sorted({bisect_right(self.bounds, k) for k in keys})]


def open_index(snapshot: Path) -> Index | None:
    """The index of the snapshot folder ``snapshot``; None while it has none (a child may be building it)."""
    meta = snapshot / INDEX_DIR / PARTS_FILE
    if meta.is_file():
        parts = json.loads(meta.read_text("utf-8"))
        return Index([snapshot / INDEX_DIR / p for p in parts["parts"]], list(parts["bounds"]))
    if (snapshot / LEGACY_FILE).is_file():
        return Index([snapshot / LEGACY_FILE], [])
    return None


def has_index(snapshot: Path) -> bool:
    return (snapshot / INDEX_DIR / PARTS_FILE).is_file() or (snapshot / LEGACY_FILE).is_file()


def read_index(snapshot: Path, columns: list[str] | None = None) -> Iterator[pl.DataFrame]:
    """The index of ``snapshot`` part by part (``columns`` only, when given)."""
    index = open_index(snapshot)
    for part in index.parts if index else []:
        yield pl.read_parquet(part, columns=columns)


def lookup(snapshots: Mapping[str, Path], keys: Iterable[str], label: str = "month") -> pl.DataFrame:
    """The index rows of ``keys`` in every snapshot's index, with ``label``: the snapshot's name in
    ``snapshots``; one scan of the one part per key and snapshot, pruned by row-group statistics."""
    wanted = sorted({k for k in keys if k})
    labels: dict[str, str] = {}
    for name, folder in snapshots.items():
        index = open_index(folder)
        if index is not None:
            labels |= {str(p): name for p in index.parts_of(wanted)}
    if not labels or not wanted:
        return pl.DataFrame(schema=COLUMNS | {label: pl.String})
    key = pl.col("key")
    cond = key == wanted[0] if len(wanted) == 1 else key.is_in(wanted)
    return (pl.scan_parquet(list(labels), include_file_paths="_file", missing_columns="insert").filter(cond)
            .collect().with_columns(pl.col("_file").replace_strict(labels, return_dtype=pl.String).alias(label))
            .drop("_file"))


if __name__ == "__main__":
    os.nice(10)  # after the audit, behind the pages people are using
    sizes = [int(a) for a in sys.argv[2:4]]
    index_snapshot(Path(sys.argv[1]), **dict(zip(("part_rows", "chunk_rows"), sizes, strict=False)))
