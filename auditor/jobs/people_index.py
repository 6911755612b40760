"""The people index of a snapshot: ``index.parquet`` beside its tables, sorted by ``key`` in small row
groups, so a look-up by resident id, name, staff id, account, phone or case id reads one or two row
groups of each month's file (Parquet statistics, predicate pushdown) instead of every table.

Two kinds of rows, one schema (``COLUMNS``):

- ``kind == "person"``: a timeline row, keyed by the resident id it is about (a case they are paid
  for, a membership, a payment, a filing, a death ...); ``table`` names the source table, ``info`` the
  row in a few words (codes shown as their Chinese labels), ``other`` a second person or account.
- any other ``kind`` (``name``, ``staff``, ``account``, ``phone``, ``case``): a look-up key that
  resolves to ``person_id`` (and ``staff_id`` / ``case_id``).

Built when a run writes its snapshot (``auditor.jobs.snapshot.write_snapshot``): in the run itself for a
drop of up to ``INLINE_ROWS`` rows, else by a detached, low-priority child process
(``python -m auditor.jobs.people_index <snapshot folder>``) reading the snapshot's own Parquet files, so a
city audit is not made slower by sorting millions of keys; the index appears (renamed into place,
owner-only) a little after the run. A drop above ``CHILD_ROWS`` (province scale) is not indexed: sorting
its keys in one frame would need more memory than the machine can spare; its pages show the findings only.
Pages read only snapshots that have their index. Payments and ledger rows of the
snapshot's own month are indexed (each month's snapshot brings its month's money).
Read by ``auditor.services.search``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

import polars as pl

from auditor.core.private import private_open
from auditor.ingest.schema import TABLES
from auditor.reporting.labels import KIND_LABELS

INDEX_FILE = "index.parquet"
ROW_GROUP = 8192
INLINE_ROWS = 1_000_000  # larger drops are indexed by a child process
CHILD_ROWS = 20_000_000  # larger (province) drops are not indexed yet: sorting them in memory could exhaust it
COLUMNS: dict[str, type[pl.DataType] | pl.DataType] = {
    "key": pl.String, "kind": pl.String, "table": pl.String, "person_id": pl.String, "staff_id": pl.String,
    "case_id": pl.String, "street": pl.String, "name": pl.String, "when": pl.String, "amount_fen": pl.Int64,
    "other": pl.String, "info": pl.String}


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


def _rows(frame: pl.DataFrame, table: str, key: str, *, kind: str = "person", person: str | None = None,
          staff: str | None = None, case: str | None = None, street: str | None = None, name: str | None = None,
          when: str | None = None, amount: str | None = None, other: str | None = None,
          info: pl.Expr | None = None) -> pl.DataFrame:
    return frame.select(
        key=_col(frame, key), kind=pl.lit(kind), table=pl.lit(table), person_id=_col(frame, person or key),
        staff_id=_col(frame, staff), case_id=_col(frame, case), street=_col(frame, street), name=_col(frame, name),
        when=_col(frame, when),
        amount_fen=pl.col(amount).cast(pl.Int64) if amount and amount in frame.columns else pl.lit(None, pl.Int64),
        other=_col(frame, other), info=info if info is not None else pl.lit(None, pl.String),
    ).filter(pl.col("key").is_not_null() & (pl.col("key") != ""))


def build_index(tables: Mapping[str, pl.DataFrame], month: str | None = None) -> pl.DataFrame:
    """Every look-up key and timeline row of one snapshot's tables (payments and ledger of ``month`` only,
    when given), sorted by ``key``."""
    t = dict(tables)
    if month is not None:
        t |= {name: t[name].filter(pl.col("month") == month) for name in ("payments", "ledger")
              if name in t and "month" in t[name].columns}
    parts: list[pl.DataFrame] = []
    cases = t.get("cases")
    if cases is not None:
        parts += [
            _rows(cases, "cases", "payee_id", case="case_id", street="street", when="start_month",
                  amount="monthly_amount", other="bank_account",
                  info=_info(cases, ("program", "program"), ("status", "case_status"), ("end_month", "str"))),
            _rows(cases, "cases", "case_id", kind="case", person="payee_id", case="case_id", street="street"),
            _rows(cases, "cases", "bank_account", kind="account", person="payee_id", case="case_id", street="street"),
        ]
    members = t.get("members")
    if members is not None:
        streets = (cases.select("case_id", "street", "program") if cases is not None
                   else pl.DataFrame(schema={"case_id": pl.String, "street": pl.String, "program": pl.String}))
        m = members.join(streets, on="case_id", how="left")
        parts += [
            _rows(m, "members", "person_id", case="case_id", street="street", name="name", other="phone",
                  info=_info(m, ("program", "program"), ("relation_to_payee", "member_relation"))),
            _rows(m, "members", "name", kind="name", person="person_id", case="case_id", street="street", name="name"),
            _rows(m, "members", "phone", kind="phone", person="person_id", case="case_id", street="street",
                  name="name"),
        ]
    for table, date in (("payments", "month"), ("ledger", "paid_on")):
        f = t.get(table)
        if f is not None:
            f = f.with_columns(_when=pl.coalesce(_col(f, date), _col(f, "month")))
            parts += [
                _rows(f, table, "payee_id", case="case_id", street="street", when="_when", amount="amount",
                      other="bank_account", info=_info(f, ("program", "program"), ("status", "ledger_status"))),
                _rows(f.unique(["bank_account", "payee_id"]), table, "bank_account", kind="account",
                      person="payee_id", case="case_id", street="street"),
            ]
    staff = t.get("staff")
    if staff is not None:
        parts += [
            _rows(staff, "staff", "person_id", staff="staff_id", street="street", name="name", when="active_from",
                  other="bank_account", info=_info(staff, ("role", "staff_role"), ("end_date", "str"))),
            _rows(staff, "staff", "staff_id", kind="staff", person="person_id", staff="staff_id", street="street",
                  name="name", info=_info(staff, ("role", "staff_role"))),
            _rows(staff, "staff", "name", kind="name", person="person_id", staff="staff_id", street="street",
                  name="name"),
            _rows(staff, "staff", "phone", kind="phone", person="person_id", staff="staff_id", street="street"),
            _rows(staff, "staff", "bank_account", kind="account", person="person_id", staff="staff_id",
                  street="street"),
        ]
    accounts = t.get("accounts")
    if accounts is not None:
        parts += [
            _rows(accounts, "accounts", "holder_id", name="holder_name", other="bank_account"),
            _rows(accounts, "accounts", "bank_account", kind="account", person="holder_id", name="holder_name"),
        ]
    relations = t.get("relations")
    if relations is not None:
        parts += [_rows(relations, "relations", "person_id", other="relative_id",
                        info=_info(relations, ("relation", "relation"))),
                  _rows(relations, "relations", "relative_id", other="person_id",
                        info=_info(relations, ("relation", "relation")))]
    custody = t.get("custody_filings")
    if custody is not None:
        parts += [_rows(custody, "custody_filings", "person_id", when="start_date", other="custodian_id",
                        info=_info(custody, ("reason", "str"), ("end_date", "str"))),
                  _rows(custody, "custody_filings", "custodian_id", when="start_date", other="person_id",
                        name="custodian_name", info=_info(custody, ("reason", "str"), ("end_date", "str")))]
    kin = t.get("kin_filings")
    if kin is not None:
        parts += [_rows(kin, "kin_filings", "relative_id", staff="staff_id", when="filed_on", other="staff_id",
                        info=_info(kin, ("relation", "relation"))),
                  _rows(kin, "kin_filings", "staff_id", kind="staff_filing", person="relative_id", staff="staff_id",
                        when="filed_on", other="relative_id", info=_info(kin, ("relation", "relation")))]
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
        f = t.get(table)
        if f is not None:
            parts.append(_rows(f, table, "person_id", street="street", when=date, amount=amount,
                               case="application_id", info=_info(f, *info)))
    parts = [p.cast(COLUMNS) for p in parts if p.height]  # type: ignore[arg-type]
    if not parts:
        return pl.DataFrame(schema=COLUMNS)
    return pl.concat(parts, how="vertical").sort("key", maintain_order=True)


def write_index(tables: Mapping[str, pl.DataFrame], path: Path | IO[bytes], month: str | None = None) -> None:
    """Write ``build_index(tables, month)`` to ``path`` (a path or a file object open for writing)."""
    build_index(tables, month).write_parquet(path, row_group_size=ROW_GROUP, statistics=True)


def index_snapshot(folder: Path) -> Path:
    """Build the index of the snapshot in ``folder`` from its own files; written aside, renamed into place."""
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    tables = {name: pl.read_parquet(folder / f"{name}.parquet") for name in TABLES
              if (folder / f"{name}.parquet").is_file()}
    stage = folder / f".{INDEX_FILE}.{os.getpid()}"
    try:
        with private_open(stage, "wb") as f:
            write_index(tables, f, manifest.get("month"))
        stage.rename(folder / INDEX_FILE)
    finally:
        stage.unlink(missing_ok=True)
    return folder / INDEX_FILE


def index_later(folder: Path) -> None:
    """Start a detached, low-priority process that indexes ``folder`` (``index_snapshot``)."""
    subprocess.Popen([sys.executable, "-m", "auditor.jobs.people_index", str(folder)], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def lookup(files: Iterable[Path], keys: Iterable[str]) -> pl.DataFrame:
    """The index rows of ``keys`` in every file (``month`` column: each file's folder's run month is added
    by the caller); one scan, pruned by row-group statistics."""
    paths = [str(p) for p in files]
    wanted = sorted({k for k in keys if k})
    if not paths or not wanted:
        return pl.DataFrame(schema=COLUMNS | {"file": pl.String})
    key = pl.col("key")
    cond = key == wanted[0] if len(wanted) == 1 else key.is_in(wanted)
    return (pl.scan_parquet(paths, include_file_paths="file", missing_columns="insert")
            .filter(cond).collect())


if __name__ == "__main__":
    os.nice(10)  # after the audit, behind the pages people are using
    index_snapshot(Path(sys.argv[1]))
