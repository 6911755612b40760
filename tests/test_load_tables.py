"""Tables loaded a few at a time in threads give what loading them one after the other gives."""

from __future__ import annotations

import sys
import threading
from dataclasses import asdict
from pathlib import Path

import polars as pl
import pytest

from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.ingest import loader
from auditor.ingest.loader import load_drop, load_tables
from tests.test_loader import write_minimal

ROOT = Path(__file__).resolve().parent.parent
PROFILE = load_profile(None)


def _drop(tmp_path: Path) -> Path:
    """The benchmark generator's tiny drop with a few bad values and a repeated key."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    folder = tmp_path / "drop"
    generate("tiny", folder, month="2026-10")
    payments = pl.read_parquet(folder / "payments.parquet")
    n = payments.height
    payments.with_columns(
        payment_id=pl.when(pl.int_range(n) == n - 3).then(pl.col("payment_id").first()).otherwise("payment_id"),
        month=pl.when(pl.int_range(n) == 10).then(pl.lit("2026-13")).otherwise("month"),
    ).write_parquet(folder / "payments.parquet")
    ledger = pl.read_parquet(folder / "ledger.parquet")
    ledger.with_columns(bank_account=pl.when(pl.int_range(ledger.height) == 7).then(pl.lit("62-22 02"))
                        .otherwise("bank_account")).write_parquet(folder / "ledger.parquet")
    return folder


@pytest.mark.parametrize("stream_rows", [None, 300])
def test_tables_loaded_together_equal_one_at_a_time(tmp_path, monkeypatch, stream_rows):
    folder = _drop(tmp_path)
    labels: list[str] = []
    threads = set()

    def progress(label: str) -> None:
        threads.add(threading.get_ident())
        labels.append(label)

    together = load_drop(folder, PROFILE, on_table=progress, stream_rows=stream_rows, compact=True)
    monkeypatch.setattr(loader, "TABLE_WORKERS", 1)
    alone = load_drop(folder, PROFILE, stream_rows=stream_rows, compact=True)
    assert together.quarantine.height >= 4 and together.quarantine.equals(alone.quarantine)
    assert {k: asdict(s) for k, s in together.stats.items()} == {k: asdict(s) for k, s in alone.stats.items()}
    assert list(together.tables) == list(alone.tables) == list(together.stats)  # contract order
    for name in alone.tables:
        assert together.tables[name].equals(alone.tables[name]), name
    assert threads == {threading.get_ident()}  # progress is reported in the calling thread
    assert sorted(labels) == sorted(f"{n}: {s.read:,} rows" for n, s in together.stats.items())


def test_a_set_of_tables_loads_alone(tmp_path):
    folder = _drop(tmp_path)
    drop = load_tables(folder, PROFILE, ["ledger", "payments"])
    full = load_drop(folder, PROFILE)
    assert list(drop.tables) == ["payments", "ledger"]
    assert drop.tables["ledger"].equals(full.tables["ledger"])
    assert drop.quarantine.equals(full.quarantine.filter(pl.col("table").is_in(["payments", "ledger"])))
    with pytest.raises(ValueError, match="ledgers"):
        load_tables(folder, PROFILE, ["ledgers"])


def _bad_members_and_ledger(tmp_path: Path) -> None:
    """members unreadable; ledger, later in contract order but the bigger file (loaded first), lacks a column."""
    rows = "".join(f"T{i},C1,dibao,2026-10,6222000000000001,2026-10-05,华阳路街道,paid\n" for i in range(2000))
    write_minimal(tmp_path, **{"ledger.csv": "txn_id,case_id,program,month,bank_account,paid_on,street,status\n"
                                             + rows})
    (tmp_path / "members.csv").write_bytes(b"case_id,person_id,name\n\xff\xfe\xfa\xfb,\x81\n")


def test_the_first_bad_table_in_contract_order_is_reported(tmp_path, monkeypatch):
    _bad_members_and_ledger(tmp_path)
    ledger_failed = threading.Event()
    real = loader.load_table

    def ledger_fails_first(path, table, profile, **kwargs):  # members waits until ledger has failed
        if table.name == "members":
            ledger_failed.wait(timeout=10)
        try:
            return real(path, table, profile, **kwargs)
        finally:
            if table.name == "ledger":
                ledger_failed.set()

    monkeypatch.setattr(loader, "load_table", ledger_fails_first)
    with pytest.raises(AuditInputError) as together:
        load_drop(tmp_path, PROFILE)
    assert ledger_failed.is_set()
    monkeypatch.setattr(loader, "TABLE_WORKERS", 1)
    with pytest.raises(AuditInputError) as alone:
        load_drop(tmp_path, PROFILE)
    assert str(together.value) == str(alone.value)
    assert "members.csv" in str(together.value) and "无法识别文件编码" in str(together.value)


def test_a_bad_table_before_a_missing_one_is_reported(tmp_path):
    _bad_members_and_ledger(tmp_path)
    (tmp_path / "ledger.csv").unlink()
    with pytest.raises(AuditInputError, match="members.csv"):
        load_drop(tmp_path, PROFILE)
