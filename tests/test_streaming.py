"""The streaming (out-of-core) load path finds exactly what the in-memory path finds."""

from __future__ import annotations

import stat
import sys
from collections.abc import Collection
from dataclasses import asdict
from pathlib import Path

import polars as pl

from auditor.core.config import load_profile
from auditor.engine.context import AuditContext
from auditor.engine.runner import run_rules
from auditor.ingest.loader import load_drop
from auditor.ingest.spill import SpilledTables
from auditor.jobs.monthly import run_audit

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2026-10"


def _drop(tmp_path: Path) -> Path:
    """The benchmark generator's tiny drop, with bad values and keys repeated across batches."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    folder = tmp_path / "drop"
    generate("tiny", folder, month=MONTH)
    ledger = pl.read_parquet(folder / "ledger.parquet")
    n = ledger.height
    ledger = ledger.with_columns(
        txn_id=pl.when(pl.int_range(n) == n - 5).then(pl.col("txn_id").first()).otherwise("txn_id"),
        payee_id=pl.when(pl.int_range(n) == 700).then(pl.lit("110101199001011238"))
        .when(pl.int_range(n) == 701).then(pl.col("payee_id").str.replace_all("1", "１"))
        .otherwise("payee_id"),
        bank_account=pl.when(pl.int_range(n) == 1200).then(pl.lit("62-22 02")).otherwise("bank_account"),
    )
    ledger.write_parquet(folder / "ledger.parquet")
    return folder


def test_streamed_and_in_memory_loads_find_the_same(tmp_path):
    folder = _drop(tmp_path)
    profile = load_profile(None)
    memory = load_drop(folder, profile)
    streamed = load_drop(folder, profile, stream_rows=300)
    tables = streamed.tables
    assert isinstance(tables, SpilledTables) and tables.on_disk("ledger") and tables.on_disk("payments")
    assert len(list(tables.folder.glob("ledger.*.parquet"))) > 3  # batches of 300 rows
    assert not tables.on_disk("staff")  # small tables stay in memory
    assert stat.S_IMODE(tables.folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in tables.folder.iterdir())
    assert streamed.quarantine.equals(memory.quarantine)
    reasons = set(memory.quarantine["reason"])
    assert {"身份证号校验位错误", "银行账号格式错误"} <= reasons and any("duplicate key" in r for r in reasons)
    assert {k: asdict(s) for k, s in streamed.stats.items()} == {k: asdict(s) for k, s in memory.stats.items()}
    assert list(tables) == list(memory.tables)
    for name, frame in memory.tables.items():
        assert tables[name].equals(frame), name
    found = {}
    for label, drop in (("memory", memory), ("streamed", streamed)):
        findings, statuses = run_rules(AuditContext(month=MONTH, profile=profile, drop=drop))
        found[label] = findings
        assert all(s.ran for s in statuses)
    assert found["memory"].height > 50
    assert found["streamed"].equals(found["memory"])  # same ids, facts, amounts and evidence
    spill = tables.folder
    tables.close()
    assert not spill.exists()


def test_run_audit_streams_above_the_profile_size(tmp_path):
    folder = _drop(tmp_path)
    results = {}
    for label, rows in (("memory", None), ("streamed", 1000)):
        profile = load_profile(None).model_copy(update={"stream_above_rows": rows,
                                                        "snapshot_dir": str(tmp_path / label / "snap")})
        results[label] = run_audit(month=MONTH, data_dir=folder, out_dir=tmp_path / label / "out", profile=profile,
                                   db_url=f"sqlite:///{tmp_path / label / 'a.db'}")
    assert results["streamed"].findings.equals(results["memory"].findings)
    assert results["streamed"].summary["tables"] == results["memory"].summary["tables"]
    assert (tmp_path / "streamed" / "out" / "findings.csv").read_bytes() == \
        (tmp_path / "memory" / "out" / "findings.csv").read_bytes()
    snaps = {label: tmp_path / label / "snap" / str(r.run_id) for label, r in results.items()}
    for name in ("ledger", "payments", "cases", "quarantine"):  # streamed tables are snapshotted like the others
        assert pl.read_parquet(snaps["streamed"] / f"{name}.parquet").equals(
            pl.read_parquet(snaps["memory"] / f"{name}.parquet")), name


def test_asking_whether_a_streamed_table_was_loaded_does_not_read_it(monkeypatch):
    """``name in tables`` (every rule's input check) answers from the names: reading a streamed table
    whole for it would cost a province's ledger per rule."""
    tables = SpilledTables()
    tables.put("staff", pl.DataFrame({"staff_id": ["S1"]}))
    pl.DataFrame({"txn_id": ["T1"]}).write_parquet(tables.new_part("ledger"))

    def no_read(*args, **kwargs):
        raise AssertionError("a streamed table was read")

    monkeypatch.setattr(pl, "read_parquet", no_read)
    assert "ledger" in tables and "staff" in tables and "payments" not in tables
    assert tables.on_disk("ledger") and not tables.on_disk("staff")
    tables.close()


def test_a_rule_reads_only_the_columns_it_asks_of_a_streamed_table(tmp_path):
    """``ctx.table(name, *columns)`` on a table kept on disk reads those columns (each once, held until
    ``release``), in the rows' order, equal to the same columns of the table held in memory."""
    folder = _drop(tmp_path)
    profile = load_profile(None)
    memory = load_drop(folder, profile)
    ctx = AuditContext(month=MONTH, profile=profile, drop=load_drop(folder, profile, stream_rows=300))
    assert ctx.on_disk("members")
    first = ctx.table("members", "case_id", "person_id")
    assert first.equals(memory.tables["members"].select("case_id", "person_id"))
    assert ctx._tables["members"].columns == ["case_id", "person_id"]  # nothing else was read
    named = ctx.table("members", "person_id", "name")
    assert named.equals(memory.tables["members"].select("person_id", "name"))
    assert ctx._tables["members"].columns == ["case_id", "person_id", "name"]  # only ``name`` was added
    assert ctx.table("members").equals(memory.tables["members"])  # no columns: the whole table
    assert ctx.table("staff", "staff_id").equals(memory.tables["staff"].select("staff_id"))  # held in memory
    ctx.release()
    assert "members" not in ctx._tables


def test_streamed_duplicate_keys_are_told_exactly_when_hashes_collide(tmp_path, monkeypatch):
    """Across batches only the keys' hashes are held; a repeated hash is a candidate whose key is read back
    and compared. Every hash taken as repeated (as if all collided) still quarantines exactly the rows
    whose key repeats, as the in-memory load does."""
    from auditor.ingest import loader

    folder = _drop(tmp_path)
    profile = load_profile(None)
    memory = load_drop(folder, profile)
    monkeypatch.setattr(loader, "repeated_hashes", lambda hashes: hashes.unique())
    streamed = load_drop(folder, profile, stream_rows=300)
    assert streamed.quarantine.equals(memory.quarantine)
    assert any("duplicate key" in r for r in streamed.quarantine["reason"])
    assert streamed.tables["ledger"].equals(memory.tables["ledger"])
    streamed.tables.close()


def test_national_limits_find_the_same_and_hold_no_big_table(tmp_path, monkeypatch):
    """With the national-scale limits (columns of a table above ``HOLD_ROWS`` read on every call and not
    held, big joins worked in parts above ``PART_ROWS``), every rule finds what it finds in memory."""
    from auditor.engine import context, frames

    folder = _drop(tmp_path)
    profile = load_profile(None)
    expected, _ = run_rules(AuditContext(month=MONTH, profile=profile, drop=load_drop(folder, profile)))
    monkeypatch.setattr(context, "HOLD_ROWS", 300)
    monkeypatch.setattr(frames, "PART_ROWS", 300)
    ctx = AuditContext(month=MONTH, profile=profile, drop=load_drop(folder, profile, stream_rows=300))
    big = [n for n, s in ctx.drop.stats.items() if s.accepted > 300]
    assert {"members", "cases", "ledger"} <= set(big) and all(ctx.on_disk(n) for n in big)
    assert ctx.table("members", "case_id").equals(load_drop(folder, profile).tables["members"].select("case_id"))
    assert "members" not in ctx._tables
    held: list[str] = []
    release = ctx.release

    def noting(to_run: Collection[str] | None = None) -> None:
        held.extend(ctx._tables)
        release(to_run)

    monkeypatch.setattr(ctx, "release", noting)
    found, statuses = run_rules(ctx)
    noting()
    assert all(s.ran for s in statuses)
    assert not set(held) & set(big)  # no table above HOLD_ROWS was held by any family
    assert expected.height > 50 and found.equals(expected)


def test_streamed_keys_ascending_until_a_batch_repeats_the_last_key(tmp_path):
    """Keys in ascending order are not hashed; the first batch whose first key repeats the previous
    batch's last one hashes the earlier batches' keys back from their parts and the repeat is found."""
    folder = _drop(tmp_path)
    ledger = pl.read_parquet(folder / "ledger.parquet").unique("txn_id", keep="first").sort("txn_id")
    n = ledger.height
    assert n > 900
    ledger = ledger.with_columns(  # source row 601 (the first of the third batch of 300) repeats row 600's key
        txn_id=pl.when(pl.int_range(n) == 600).then(pl.col("txn_id").shift(1)).otherwise("txn_id"))
    ledger.write_parquet(folder / "ledger.parquet")
    profile = load_profile(None)
    memory = load_drop(folder, profile)
    streamed = load_drop(folder, profile, stream_rows=300)
    dup = streamed.quarantine.filter(pl.col("table") == "ledger", pl.col("reason").str.contains("duplicate key"))
    assert dup["source_row"].to_list() == [600, 601]
    assert streamed.quarantine.equals(memory.quarantine)
    assert streamed.tables["ledger"].equals(memory.tables["ledger"])
    streamed.tables.close()


def test_a_part_that_cannot_be_written_fails_the_load(tmp_path, monkeypatch):
    """Parts are written in a thread while the next batch loads: a write error still ends the load."""
    import pytest

    from auditor.ingest import loader

    folder = _drop(tmp_path)
    written = []
    real = loader.write_part

    def write(part, rows, name, compact):
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        written.append(part)
        real(part, rows, name, compact)

    monkeypatch.setattr(loader, "write_part", write)
    with pytest.raises(OSError, match="No space left"):
        load_drop(folder, load_profile(None), stream_rows=300)
    assert len(written) == 2
