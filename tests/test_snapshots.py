"""Each run keeps its normalised data (issue 20, part 1): a Parquet snapshot per run, owner-only, with
a manifest of the input files' hashes; retention deletes old snapshots (logged); a rerun whose files
are unchanged loads the snapshot instead of re-validating the exports, with identical findings."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from sqlalchemy import select

from auditor import store
from auditor.core.config import load_profile
from auditor.demo import generate
from auditor.ingest.compact import as_text
from auditor.ingest.loader import load_drop
from auditor.jobs import monthly, snapshot
from auditor.services import runs
from auditor.services.session import operator_session

MONTH = "2026-10"
PROFILE = load_profile(None)


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("snap") / "drop"
    generate(path, month=MONTH, n_cases=60)
    return path


def run_month(db_url: str, drop: Path, out: Path, profile=PROFILE):
    session = operator_session(db_url, "ops")
    try:
        return runs.run_month(session, month=MONTH, data_dir=drop, out_dir=out, profile=profile, db_url=db_url)
    finally:
        session.engine.dispose()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sorted_findings(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns)


def test_default_roots(tmp_path):
    assert snapshot.snapshot_root(PROFILE, f"sqlite:///{tmp_path / 'a' / 'auditor.db'}") == tmp_path / "a" / "snapshots"
    server = snapshot.snapshot_root(PROFILE, "postgresql+psycopg://u@h/db")
    assert server.parent == snapshot.SERVER_DEFAULT
    assert snapshot.snapshot_root(PROFILE, "postgresql+psycopg://u:secret@h/db") == server  # password not part of it
    assert snapshot.snapshot_root(PROFILE, "postgresql+psycopg://u@h/db?options=-csearch_path%3Dother") != server
    chosen = PROFILE.model_copy(update={"snapshot_dir": str(tmp_path / "mine")})
    assert snapshot.snapshot_root(chosen, "postgresql+psycopg://u@h/db") == tmp_path / "mine"


def test_snapshot_holds_every_table_owner_only_with_hashes(tmp_path, drop):
    url = f"sqlite:///{tmp_path / 'auditor.db'}"
    result = run_month(url, drop, tmp_path / "out")
    folder = tmp_path / "snapshots" / str(result.run_id)
    loaded = load_drop(drop, PROFILE)
    assert {p.name for p in folder.iterdir()} == {f"{t}.parquet" for t in loaded.tables} | {
        "quarantine.parquet", "index", "manifest.json"}
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700 and mode(folder / "index") == 0o700
    assert all(mode(p) == 0o600 for p in [*folder.iterdir(), *(folder / "index").iterdir()] if p.is_file())
    for name, frame in loaded.tables.items():  # the few-valued columns are kept as held: categoricals
        assert as_text(pl.scan_parquet(folder / f"{name}.parquet")).collect().equals(frame), name
    assert pl.read_parquet_schema(folder / "payments.parquet")["program"] == pl.Categorical
    assert duckdb.sql(f"select typeof(program), typeof(street), typeof(month) from '{folder}/payments.parquet'"
                      ).limit(1).fetchall() == [("VARCHAR", "VARCHAR", "VARCHAR")]  # to any other reader: text
    assert pl.read_parquet(folder / "quarantine.parquet").equals(loaded.quarantine)
    codecs = duckdb.sql(f"select distinct compression from parquet_metadata('{folder}/*.parquet') "
                        "where file_name not like '%index.parquet'").fetchall()
    assert codecs == [("LZ4_RAW",)]  # the tables: lz4, cheaper to write and read than zstd
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert (manifest["run_id"], manifest["month"], manifest["profile"]) == (result.run_id, MONTH, PROFILE.name)
    assert set(manifest["files"]) == set(loaded.tables)
    for name, entry in manifest["files"].items():
        raw = (drop / entry["name"]).read_bytes()
        assert entry["size"] == len(raw) and entry["sha256"] == hashlib.sha256(raw).hexdigest()
        assert manifest["tables"][name]["read"] == loaded.stats[name].read
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # nothing left aside


def test_retention_deletes_old_snapshots_and_logs_each(tmp_path, drop):
    url = f"sqlite:///{tmp_path / 'auditor.db'}"
    root = tmp_path / "snapshots"
    for run_id, month in ((901, "2024-09"), (902, "2024-10"), (903, "2023-01")):
        (root / str(run_id)).mkdir(parents=True)
        (root / str(run_id) / "manifest.json").write_text(json.dumps({"run_id": run_id, "month": month}))
    result = run_month(url, drop, tmp_path / "out")  # 24 months before 2026-10: 2024-10 is kept
    assert sorted(p.name for p in root.iterdir()) == sorted(["902", str(result.run_id)])
    engine = store.connect(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(store.access_log.c.actor, store.access_log.c.target)
                                .where(store.access_log.c.action == "snapshot.delete")).all()
    finally:
        engine.dispose()
    assert sorted(rows) == [("ops", "901"), ("ops", "903")]


def test_unchanged_rerun_loads_snapshot_changed_file_does_not(tmp_path, drop, db_url, monkeypatch):
    work = tmp_path / "drop"
    work.mkdir()
    for p in drop.iterdir():
        (work / p.name).write_bytes(p.read_bytes())
    profile = PROFILE.model_copy(update={"snapshot_dir": str(tmp_path / "snaps")})
    first = run_month(db_url, work, tmp_path / "out", profile)
    assert first.run.loaded_from_snapshot is None
    assert "loaded_from_snapshot" not in json.loads((tmp_path / "out" / "run.json").read_text("utf-8"))

    def no_load(*a, **kw):
        raise AssertionError("the raw exports were re-validated")

    with monkeypatch.context() as mp:
        mp.setattr(monthly, "load_drop", no_load)
        second = run_month(db_url, work, tmp_path / "out", profile)
    assert second.run.loaded_from_snapshot == first.run_id
    assert json.loads((tmp_path / "out" / "run.json").read_text("utf-8"))["loaded_from_snapshot"] == first.run_id
    assert sorted_findings(second.findings).equals(sorted_findings(first.findings))
    assert second.findings.height > 0
    assert second.run.tables == first.run.tables
    assert second.run.quarantine_reasons == first.run.quarantine_reasons
    assert (tmp_path / "snaps" / str(second.run_id) / "manifest.json").is_file()

    staff = next(p for p in work.iterdir() if p.stem == "staff")
    staff.write_bytes(staff.read_bytes() + b"\n")  # one byte more
    third = run_month(db_url, work, tmp_path / "out", profile)
    assert third.run.loaded_from_snapshot is None
    assert "loaded_from_snapshot" not in json.loads((tmp_path / "out" / "run.json").read_text("utf-8"))
    assert sorted_findings(third.findings).equals(sorted_findings(first.findings))


def test_scheduled_cycle_prunes_and_logs(tmp_path):
    from auditor.core.periods import month_add

    month = month_add(date.today().strftime("%Y-%m"), -2)  # always due (day 5 of the next month has passed)
    generate(tmp_path / "inbox" / month, month=month, n_cases=60)
    settings = PROFILE.schedule.model_copy(update={
        "inbox": str(tmp_path / "inbox"), "out": str(tmp_path / "out"), "db": f"sqlite:///{tmp_path / 'a.db'}",
        "reminders_dir": str(tmp_path / "reminders"), "retries": 0})
    profile = PROFILE.model_copy(update={"schedule": settings, "snapshot_retention_months": 1})
    old = tmp_path / "snapshots" / "77"
    old.mkdir(parents=True)
    (old / "manifest.json").write_text(json.dumps({"run_id": 77, "month": month_add(month, -2)}))
    session = operator_session(settings.db, "ops")
    try:
        assert runs.scheduled_cycle(session, profile) == {month: True}
        with session.engine.connect() as conn:
            rows = conn.execute(select(store.access_log.c.actor, store.access_log.c.target)
                                .where(store.access_log.c.action == "snapshot.delete")).all()
    finally:
        session.engine.dispose()
    assert not old.exists() and rows == [("ops", "77")]
    assert [p.name for p in (tmp_path / "snapshots").iterdir()] == ["1"]


def test_a_snapshot_that_cannot_be_written_is_a_notice_not_a_failed_audit(tmp_path, drop, monkeypatch):
    def full(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(monthly, "write_snapshot", full)
    url = f"sqlite:///{tmp_path / 'a.db'}"
    result = run_month(url, drop, tmp_path / "out")
    assert result.notice and "数据快照未能保存" in result.notice and "No space left" in result.notice
    assert (tmp_path / "out" / "run.json").exists()
    engine = store.connect(url)
    with engine.connect() as conn:
        assert conn.execute(select(store.runs.c.status)).scalars().all() == ["ok"]
    engine.dispose()


def test_the_snapshot_is_written_while_the_outputs_are(tmp_path, drop, monkeypatch):
    written = monthly.write_outputs
    root = tmp_path / "snapshots"

    def outputs_waiting_for_the_snapshot(folder, **kwargs):
        waited = 0.0
        while not (root.is_dir() and any(p.name.isdigit() for p in root.iterdir())) and waited < 20:
            time.sleep(0.05)  # outputs cannot finish before the snapshot did: it must be written meanwhile
            waited += 0.05
        assert waited < 20, "the snapshot was not written alongside the outputs"
        written(folder, **kwargs)

    monkeypatch.setattr(monthly, "write_outputs", outputs_waiting_for_the_snapshot)
    result = run_month(f"sqlite:///{tmp_path / 'auditor.db'}", drop, tmp_path / "out")
    assert result.notice is None and (root / str(result.run_id) / "manifest.json").is_file()
    assert (tmp_path / "out" / "report.html").is_file()


def test_a_run_whose_outputs_fail_keeps_no_snapshot(tmp_path, drop, monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(monthly, "write_outputs", broken)
    url = f"sqlite:///{tmp_path / 'auditor.db'}"
    with pytest.raises(RuntimeError, match="disk gone"):
        run_month(url, drop, tmp_path / "out")
    root = tmp_path / "snapshots"
    assert not root.exists() or not list(root.iterdir())  # neither the snapshot nor a partial one
    engine = store.connect(url)
    with engine.connect() as conn:
        assert conn.execute(select(store.runs.c.status)).scalars().all() == ["outputs_failed"]
    engine.dispose()


def test_a_run_that_could_not_be_stored_keeps_no_snapshot(tmp_path, drop, monkeypatch):
    """The snapshot's tables are written while the run is stored; a store that fails leaves no
    snapshot, finished or partial, and the error is the store's."""
    root = tmp_path / "snapshots"

    def failing_store(*_a, **_k):
        waited = 0.0
        while not (root.is_dir() and any(root.rglob("*.parquet"))) and waited < 20:
            time.sleep(0.05)  # the snapshot's tables are being written meanwhile
            waited += 0.05
        assert waited < 20, "the snapshot was not written alongside the store"
        raise RuntimeError("database gone")

    monkeypatch.setattr(monthly, "save_run", failing_store)
    with pytest.raises(RuntimeError, match="database gone"):
        run_month(f"sqlite:///{tmp_path / 'auditor.db'}", drop, tmp_path / "out")
    assert not root.exists() or not list(root.iterdir())


def test_files_no_snapshot_can_match_are_hashed_while_they_load(tmp_path, drop, monkeypatch):
    loading, overlapped = threading.Event(), []
    real_load, real_hash = monthly.load_drop, monthly.input_files

    def load(*args, **kwargs):
        loading.set()
        return real_load(*args, **kwargs)

    def hashed(data_dir):
        overlapped.append(loading.wait(20))
        return real_hash(data_dir)

    monkeypatch.setattr(monthly, "load_drop", load)
    monkeypatch.setattr(monthly, "input_files", hashed)
    profile = PROFILE.model_copy(update={"snapshot_dir": str(tmp_path / "snaps")})
    result = monthly.run_audit(month=MONTH, data_dir=drop, out_dir=tmp_path / "out", profile=profile,
                               db_url=f"sqlite:///{tmp_path / 'auditor.db'}")
    assert overlapped == [True]
    manifest = json.loads((tmp_path / "snaps" / str(result.run_id) / "manifest.json").read_text("utf-8"))
    assert manifest["files"] == real_hash(drop) != {}


def test_a_file_rewritten_to_the_same_size_is_hashed_and_not_taken_from_the_snapshot(tmp_path, drop):
    work = tmp_path / "drop"
    shutil.copytree(drop, work)
    profile = PROFILE.model_copy(update={"snapshot_dir": str(tmp_path / "snaps")})
    url = f"sqlite:///{tmp_path / 'auditor.db'}"
    first = run_month(url, work, tmp_path / "out", profile)
    assert snapshot.could_match(tmp_path / "snaps", month=MONTH, profile=profile, data_dir=work)
    assert not snapshot.could_match(tmp_path / "snaps", month="2026-09", profile=profile, data_dir=work)
    staff = next(p for p in work.iterdir() if p.stem == "staff")
    raw = staff.read_bytes()
    staff.write_bytes(raw[:-2] + bytes([raw[-2] ^ 1]) + raw[-1:])  # one bit of the last value, same size
    assert snapshot.could_match(tmp_path / "snaps", month=MONTH, profile=profile, data_dir=work)
    again = run_month(url, work, tmp_path / "out", profile)
    assert first.run.loaded_from_snapshot is None and again.run.loaded_from_snapshot is None
    staff.write_bytes(raw + b"\n")
    assert not snapshot.could_match(tmp_path / "snaps", month=MONTH, profile=profile, data_dir=work)
