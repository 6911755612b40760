"""Runs that never crash, never lie and never stick (issue 15, run level): unusable ``--db`` and ``--out``,
concurrent runs and migrations, months the drop does not hold, locks that die with their process,
outputs that appear all at once, and a fault injected at every stage of a run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, insert, select, text, update

from auditor import store
from auditor.cli.main import main
from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.core.periods import parse_month
from auditor.demo import generate
from auditor.followup import accesslog, recurrence
from auditor.jobs import faults, monthly
from auditor.jobs.monthly import OUTPUT_FILES
from auditor.services import runs
from auditor.services.session import operator_session
from auditor.store.db import MIGRATIONS
from tests.conftest import PG_URL, _pg_available
from tests.followup_helpers import finding, frame


def run_month(**kw):
    """The run service as the operator ``ops`` (the acting user the command line would record)."""
    session = operator_session(kw.get("db_url"), "ops")
    try:
        return runs.run_month(session, **kw)
    finally:
        session.engine.dispose()  # its SQLite connections closed: the file alone holds the store

ROOT = Path(__file__).resolve().parents[1]
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()
MONTH = "2026-10"
PROFILE = load_profile(None)
STAGES = ["load", "checks", "store", *[f"output:{f}" for f in
                                         ("findings.csv", "quarantine.csv", "sample.csv", "issues.xlsx",
                                          "report.html", "run.json")], "publish"]


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> Path:
    """A small demo drop (months 2026-07 to 2026-10)."""
    path = tmp_path_factory.mktemp("robust") / "drop"
    generate(path, month=MONTH, n_cases=60)
    return path


def pg_url() -> str:
    """A fresh throwaway PostgreSQL schema (dropped by ``drop_pg_schemas``)."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with create_engine(PG_URL).begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    CREATED.append(schema)
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"


CREATED: list[str] = []


@pytest.fixture(autouse=True)
def drop_pg_schemas():
    yield
    if CREATED:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            for schema in CREATED:
                conn.execute(text(f'drop schema if exists "{schema}" cascade'))
        engine.dispose()
        CREATED.clear()


def cli(*args: str, capsys) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


# --- 1. unusable --db and --out -------------------------------------------------------------------------


def _unusable_urls(tmp_path: Path) -> list[str]:
    (tmp_path / "a-file").write_text("x")
    base = PG_URL.rsplit("/", 1)[0].replace("postgres@", "postgres:s3cret@")
    return ["foo://user:s3cret@host/db", "not a url at all",
            "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test",  # nothing listens on port 1
            f"{base}/no_such_database_{uuid.uuid4().hex[:6]}",
            f"sqlite:///{tmp_path / 'a-file' / 'auditor.db'}"]  # a folder that is a file


def test_unusable_db_urls_exit_2_with_one_line_and_hidden_password(drop, tmp_path, capsys):
    for url in _unusable_urls(tmp_path):
        code, err = cli("run", "--month", MONTH, "--data", str(drop), "--out", str(tmp_path / "o"), "--db", url,
                        capsys=capsys)
        assert code == 2, url
        assert err.startswith("错误 (error): --db ") and err.count("\n") == 1, err
        assert "s3cret" not in err and "Traceback" not in err
        assert not (tmp_path / "o").exists()


def test_connect_names_the_url_with_the_password_hidden(tmp_path):
    with pytest.raises(AuditInputError, match=r"postgres:\*\*\*@127\.0\.0\.1:1/test") as exc:
        store.connect("postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test")
    assert "s3cret" not in str(exc.value)


def test_out_that_is_a_file_is_refused_before_anything_is_stored(drop, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    (tmp_path / "report.txt").write_text("keep me")
    code, err = cli("run", "--month", MONTH, "--data", str(drop), "--out", str(tmp_path / "report.txt"), "--db", db,
                    capsys=capsys)
    assert code == 2 and "--out" in err and "不是目录" in err
    assert (tmp_path / "report.txt").read_text() == "keep me"
    assert store.count_rows(store.connect(db), store.runs) == 0


def test_out_holding_other_files_is_refused_and_left_alone(drop, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "auditor.db").write_text("not ours")
    with pytest.raises(AuditInputError, match="auditor.db"):
        run_month(month=MONTH, data_dir=drop, out_dir=out, profile=PROFILE, db_url=f"sqlite:///{tmp_path / 'a.db'}")
    assert [p.name for p in out.iterdir()] == ["auditor.db"]


# --- 3. months the drop does not hold -------------------------------------------------------------------


def test_a_month_the_drop_does_not_hold_is_refused_naming_the_months_it_holds(drop, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    for month in ("2026-11", "2026-1"):  # 2026-1 reads as January, which the drop does not hold either
        code, err = cli("run", "--month", month, "--data", str(drop), "--out", str(tmp_path / "o"), "--db", db,
                        capsys=capsys)
        assert code == 2
        assert f"数据包中 payments 没有 {parse_month(month)} 的数据，已有月份：2026-07、2026-08、2026-09、2026-10" in err
    assert store.count_rows(store.connect(db), store.runs) == 0 and not (tmp_path / "o").exists()


def test_a_header_only_ledger_is_refused(drop, tmp_path, capsys):
    copy = tmp_path / "drop"
    shutil.copytree(drop, copy)
    header = (copy / "ledger.csv").read_text(encoding="utf-8").splitlines()[0]
    (copy / "ledger.csv").write_text(header + "\n", encoding="utf-8")
    code, err = cli("run", "--month", MONTH, "--data", str(copy), "--out", str(tmp_path / "o"),
                    "--db", f"sqlite:///{tmp_path / 'a.db'}", capsys=capsys)
    assert code == 2 and "数据包中 ledger 没有 2026-10 的数据，已有月份：无" in err


def test_one_digit_months_need_a_separator():
    assert parse_month("2026-1") == "2026-01" and parse_month("2026年1月") == "2026-01"
    assert parse_month("202601") == "2026-01"
    with pytest.raises(AuditInputError, match="20261"):
        parse_month("20261")


# --- 2. concurrency --------------------------------------------------------------------------------------


def _together(*fns) -> list[BaseException]:
    """Run ``fns`` in threads released at once; the exceptions they raised."""
    barrier, errors = threading.Barrier(len(fns)), []

    def go(fn) -> None:
        barrier.wait()
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def _save(engine, month: str, persons: list[str]) -> int:
    rows = [finding(p, month=month) for p in persons]
    return recurrence.save_run(engine, month=month, profile="changning", data_dir="x", started_at=datetime.now(UTC),
                               frame=frame(*rows), summary={"month": month})


def test_two_months_saved_at_once_both_commit(db_url):
    """Findings first seen in both months: each save used to insert them, the second failing on the key."""
    engine = store.connect(db_url)
    for rep in range(15):
        persons = [f"R{rep:02d}P{i:04d}" for i in range(300)]
        errors = _together(lambda p=persons: _save(engine, "2026-10", p), lambda p=persons: _save(engine, "2026-11", p))
        assert errors == []
    with engine.connect() as conn:
        rows = conn.execute(select(store.findings.c.first_month, store.findings.c.last_month)).all()
    assert len(rows) == 15 * 300 and set(rows) == {("2026-10", "2026-11")}
    assert store.count_rows(engine, store.occurrences) == 2 * 300  # each save replaces its month's
    engine.dispose()


@pytest.mark.slow
def test_two_whole_runs_of_different_months_at_once(db_url, drop, tmp_path):
    for rep in range(4):
        months = ("2026-09", "2026-10")
        errors = _together(*[lambda m=m, r=rep: run_month(month=m, data_dir=drop, out_dir=tmp_path / f"{r}-{m}",
                                                          profile=PROFILE, db_url=db_url) for m in months])
        assert errors == [], errors
    engine = store.connect(db_url)
    with engine.connect() as conn:
        statuses = conn.execute(select(store.runs.c.status)).scalars().all()
        firsts = set(conn.execute(select(store.findings.c.first_month)).scalars())
    assert statuses == ["ok"] * 8 and firsts <= {"2026-09", "2026-10"}
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_first_connects_at_once_migrate_once(kind, tmp_path):
    for rep in range(10):
        url = f"sqlite:///{tmp_path / f'fresh{rep}.db'}" if kind == "sqlite" else pg_url()
        engines: list = []
        errors = _together(*[lambda u=url, got=engines: got.append(store.connect(u))] * 4)
        assert errors == [], errors
        assert len(engines) == 4 and {store.schema_revision(e) for e in engines} == {HEAD}
        for e in engines:
            e.dispose()


@pytest.mark.slow
def test_first_runs_of_separate_processes_on_a_fresh_sqlite_file_migrate_once(tmp_path):
    code = "import sys; from auditor.store import connect; connect(sys.argv[1]).dispose()"
    for rep in range(6):
        url = f"sqlite:///{tmp_path / f'fresh{rep}.db'}"
        procs = [subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
        results = [(p.wait(120), p.stderr.read()) for p in procs]
        assert all(rc == 0 for rc, _ in results), results


# --- 4. locks --------------------------------------------------------------------------------------------


def test_a_busy_month_says_who_holds_it(db_url):
    held, release, errors = threading.Event(), threading.Event(), []

    def holder() -> None:
        with monthly.month_lock(db_url, MONTH, "王审计"):
            held.set()
            release.wait(60)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(60)
        with pytest.raises(AuditInputError) as exc:
            with monthly.month_lock(db_url, MONTH):
                pass
    finally:
        release.set()
        t.join(60)
    message = str(exc.value)
    assert "已在运行" in message and f"进程 {os.getpid()}" in message and "王审计" in message
    assert "北京时间" in message and os.uname().nodename in message
    assert errors == []
    with monthly.month_lock(db_url, MONTH):  # released
        pass


def test_a_refused_postgresql_waiter_leaves_no_short_lock_timeout_on_its_pooled_connection():
    engine = store.connect(pg_url())
    with store.lock(engine, "audit:x", "a"):
        with pytest.raises(store.LockBusy):
            with store.lock(engine, "audit:x", "b"):
                pass
    pooled = [engine.connect() for _ in range(engine.pool.checkedin())]  # every connection the locks used
    assert len(pooled) >= 2 and [c.execute(text("show lock_timeout")).scalar_one() for c in pooled] == ["0"] * len(pooled)
    for c in pooled:
        c.close()
    engine.dispose()


def test_a_lock_row_left_by_a_killed_holder_blocks_nothing(db_url):
    engine = store.connect(db_url)
    with engine.begin() as conn:  # what a killed run of an earlier version left behind
        conn.execute(insert(store.locks).values(name=f"audit:{MONTH}", holder="old", acquired_at=store.now()))
    with monthly.month_lock(db_url, MONTH):
        with engine.connect() as conn:
            holder = conn.execute(select(store.locks.c.holder)).scalar_one()
        assert f"进程 {os.getpid()}" in holder
    assert store.count_rows(engine, store.locks) == 0
    engine.dispose()


def _spawn_hanging_run(stage: str, drop: Path, out: Path, db: str) -> subprocess.Popen:
    """A ``run`` that blocks at checkpoint ``stage``; returns once it has got there."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_audit.py"), "run", "--month", MONTH, "--data", str(drop), "--out", str(out),
         "--db", db], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, faults.ENV: f"hang:{stage}"})
    for line in proc.stderr:
        if line.strip() == f"FAULT-HANG {stage}":
            return proc
    raise AssertionError(f"run ended before {stage}: exit {proc.wait()}")


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["checks", "store", "output:issues.xlsx"])
def test_kill_9_mid_run_leaves_no_lock_and_the_rerun_is_complete(stage, db_url, drop, tmp_path):
    out = tmp_path / "o"
    proc = _spawn_hanging_run(stage, drop, out, db_url)
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    proc.stdin.close()
    proc.stderr.close()
    engine = store.connect(db_url)
    if not stage.startswith("output:"):  # killed before or inside the store transaction: nothing stored
        assert store.count_rows(engine, store.occurrences) == 0
    assert not out.exists()
    result = run_month(month=MONTH, data_dir=drop, out_dir=out, profile=PROFILE, db_url=db_url)
    assert (result.notice is not None) == stage.startswith("output:")  # its store commit had happened
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]  # the killed run's folder swept
    assert store.count_rows(engine, store.occurrences) == result.run.findings.total
    engine.dispose()


# --- 5 and 6. outputs all at once; a fault at every stage ----------------------------------------------


@pytest.fixture(scope="module")
def baseline(drop, tmp_path_factory) -> Path:
    """A completed run of the month on SQLite with one finding under follow-up."""
    base = tmp_path_factory.mktemp("baseline")
    db = f"sqlite:///{base / 'a.db'}"
    run_month(month=MONTH, data_dir=drop, out_dir=base / "o", profile=PROFILE, db_url=db)
    engine = store.connect(db)
    with engine.begin() as conn:
        fid = conn.execute(select(store.findings.c.finding_id).order_by(store.findings.c.finding_id)).scalars().first()
        conn.execute(update(store.findings).where(store.findings.c.finding_id == fid)
                     .values(status="assigned", assignee="李四", assigned_street="华阳路街道"))
    engine.dispose()
    return base


def restored(baseline: Path, tmp_path: Path) -> str:
    """The baseline store copied into ``tmp_path``, as from a backup: a copy is another store to the
    access log's anchor, so it is re-anchored as an auditor would after checking it."""
    shutil.copy(baseline / "a.db", tmp_path / "a.db")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    engine = store.connect(db)
    assert accesslog.reanchor(engine)[0].state == "intact"
    engine.dispose()
    return db


def _state(engine) -> dict:
    """Follow-up state and this month's occurrences (without run ids), to compare across runs."""
    with engine.connect() as conn:
        return {"findings": sorted(map(tuple, conn.execute(select(store.findings)).all())),
                "events": sorted(map(tuple, conn.execute(select(store.events)).all())),
                "occurrences": sorted(tuple(r) for r in conn.execute(
                    select(*[c for c in store.occurrences.c if c.name != "run_id"])).all())}


def _run_id_written(out: Path) -> int:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))["run_id"]


@pytest.mark.parametrize("stage", STAGES)
def test_a_run_stopped_at_each_stage_leaves_the_store_and_outputs_whole(stage, baseline, drop, tmp_path,
                                                                         monkeypatch):
    db = restored(baseline, tmp_path)
    shutil.copytree(baseline / "o", tmp_path / "o")
    out = tmp_path / "o"
    engine = store.connect(db)
    before, first_run = _state(engine), _run_id_written(out)

    monkeypatch.setenv(faults.ENV, stage)
    with pytest.raises(faults.FaultInjected):
        run_month(month=MONTH, data_dir=drop, out_dir=out, profile=PROFILE, db_url=db)
    monkeypatch.delenv(faults.ENV)

    committed = stage.startswith("output:") or stage == "publish"
    with engine.connect() as conn:
        runs = conn.execute(select(store.runs.c.run_id, store.runs.c.status, store.runs.c.summary)
                            .order_by(store.runs.c.run_id)).all()
    assert [r.status for r in runs] == ["ok", "outputs_failed"] if committed else ["ok"]
    if committed:
        assert json.loads(runs[-1].summary)["outputs_error"] == f"FaultInjected: fault injected at {stage}"
    assert _state(engine) == before  # no half-saved run; follow-up state intact
    assert _run_id_written(out) == first_run and sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing half-written aside
    assert store.count_rows(engine, store.locks) == 0

    result = run_month(month=MONTH, data_dir=drop, out_dir=out, profile=PROFILE, db_url=db)
    assert (result.notice is not None) == committed
    if committed:
        assert "上次运行" in result.notice and "输出文件未能写完" in result.notice
    assert _state(engine) == before  # no duplicates, nothing lost
    assert _run_id_written(out) == result.run_id != first_run
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    assert pl.read_csv(out / "findings.csv").height == result.run.findings.total == len(before["occurrences"])
    assert openpyxl.load_workbook(out / "issues.xlsx").sheetnames
    with engine.connect() as conn:
        assert conn.execute(select(store.runs.c.status).order_by(store.runs.c.run_id.desc())).scalars().first() == "ok"
    engine.dispose()


def test_a_fault_inside_the_store_transaction_on_postgresql_saves_nothing(drop, tmp_path, monkeypatch):
    db = pg_url()
    run_month(month=MONTH, data_dir=drop, out_dir=tmp_path / "o", profile=PROFILE, db_url=db)
    engine = store.connect(db)
    before = _state(engine)
    monkeypatch.setenv(faults.ENV, "store")
    with pytest.raises(faults.FaultInjected):
        run_month(month=MONTH, data_dir=drop, out_dir=tmp_path / "o", profile=PROFILE, db_url=db)
    monkeypatch.delenv(faults.ENV)
    assert _state(engine) == before and store.count_rows(engine, store.runs) == 1
    run_month(month=MONTH, data_dir=drop, out_dir=tmp_path / "o", profile=PROFILE, db_url=db)
    assert _state(engine) == before and store.count_rows(engine, store.runs) == 2
    engine.dispose()


def test_cli_prints_that_the_last_runs_outputs_failed(baseline, drop, tmp_path, monkeypatch, capsys):
    db = restored(baseline, tmp_path)
    args = ["run", "--month", MONTH, "--data", str(drop), "--out", str(tmp_path / "o"), "--db", db]
    monkeypatch.setenv(faults.ENV, "output:report.html")
    with pytest.raises(faults.FaultInjected):
        main(args)
    monkeypatch.delenv(faults.ENV)
    capsys.readouterr()
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"注意：{MONTH} 上次运行") and "FaultInjected" in printed
    assert main(args) == 0
    assert "上次运行" not in capsys.readouterr().out  # the rerun completed: nothing to say


def test_the_store_is_opened_while_the_drop_loads(drop, tmp_path, monkeypatch):
    """A new store is migrated alongside the load (the bench's city run: ~0.26 s not waited for)."""
    db, seen = tmp_path / "a.db", []
    real = monthly.load_drop

    def loading(*args, **kwargs):
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            try:
                with closing(sqlite3.connect(db)) as conn:
                    seen.extend(conn.execute("select version_num from alembic_version").fetchall())
            except sqlite3.Error:
                time.sleep(0.01)
        return real(*args, **kwargs)

    monkeypatch.setattr(monthly, "load_drop", loading)
    monthly.run_audit(month=MONTH, data_dir=drop, out_dir=tmp_path / "o", profile=PROFILE, db_url=f"sqlite:///{db}")
    assert seen == [(HEAD,)]


def test_a_drop_error_is_reported_before_an_unusable_db_which_still_fails_the_run(drop, tmp_path):
    (tmp_path / "a-file").write_text("x")
    db = f"sqlite:///{tmp_path / 'a-file' / 'auditor.db'}"  # a folder that is a file
    (tmp_path / "empty").mkdir()
    with pytest.raises(AuditInputError, match="缺少必需的数据表 cases"):
        monthly.run_audit(month=MONTH, data_dir=tmp_path / "empty", out_dir=tmp_path / "o", profile=PROFILE, db_url=db)
    with pytest.raises(AuditInputError, match=r"^--db sqlite:.*无法创建数据库文件或目录"):
        monthly.run_audit(month=MONTH, data_dir=drop, out_dir=tmp_path / "o", profile=PROFILE, db_url=db)
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".*"))
