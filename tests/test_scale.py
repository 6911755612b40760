"""The benchmark tooling at a tiny scale, the loader's fast paths, and bulk inserts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from auditor import store
from auditor.core.config import load_profile
from auditor.engine.runner import load_catalogue
from auditor.ingest import loader
from auditor.ingest.loader import load_drop
from auditor.ingest.schema import TABLES

ROOT = Path(__file__).resolve().parent.parent


def test_generator_writes_a_drop_the_loader_accepts_whole(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    manifest = generate("tiny", tmp_path, month="2026-10")
    drop = load_drop(tmp_path, load_profile(None))
    assert set(drop.tables) == set(TABLES)
    assert drop.quarantine.height == 0
    assert {n: s.read for n, s in drop.stats.items()} == manifest["rows"]
    assert all(not s.missing_columns for s in drop.stats.values())
    assert drop.tables["members"].height > 1.5 * drop.tables["cases"].height
    catalogue = load_catalogue()
    assert set(manifest["planted"]) == set(catalogue)
    assert all(manifest["planted"][code] for code in catalogue), manifest["planted"]


@pytest.mark.slow
def test_bench_json_has_the_required_keys(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--scale", "tiny",
                    "--data", str(tmp_path / "data"), "--json", str(out)], check=True, cwd=ROOT,
                   capture_output=True)
    report = json.loads(out.read_text(encoding="utf-8"))
    for key in ("scale", "cases", "total_s", "peak_rss_mb", "stages", "reconcile_s", "duckdb_reconcile_s"):
        assert key in report
    assert report["scale"] == "tiny" and report["cases"] == 500
    assert {"load", "store", "outputs"} <= set(report["stages"])
    assert any(s.startswith("rules:") for s in report["stages"])
    assert report["duckdb_agrees"] is True


@pytest.mark.slow
def test_bench_runs_the_streaming_path_on_request(tmp_path):
    """``--stream-above-rows N`` benchmarks the out-of-core load (recorded in the JSON) and finds what the
    in-memory run finds."""
    reports = []
    for extra in ([], ["--stream-above-rows", "1000"]):
        out = tmp_path / f"bench{len(reports)}.json"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--scale", "tiny", "--no-reconcile",
                        "--data", str(tmp_path / "data"), "--json", str(out), *extra], check=True, cwd=ROOT,
                       capture_output=True)
        reports.append(json.loads(out.read_text(encoding="utf-8")))
    memory, streamed = reports
    assert memory["stream_above_rows"] == load_profile(None).stream_above_rows and streamed["stream_above_rows"] == 1000
    assert streamed["findings"] > 0 and streamed["findings_by_rule"] == memory["findings_by_rule"]


@pytest.mark.slow
def test_bench_stops_a_run_at_the_memory_cap_and_says_where(tmp_path):
    """Past ``--memory-cap`` the run is stopped (exit 3): the JSON says it did not complete, the stage it
    was in and the stages so far, and its outputs and spill files are gone."""
    out, scratch = tmp_path / "bench.json", tmp_path / "scratch"
    scratch.mkdir()
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--scale", "tiny",
                           "--no-reconcile", "--stream-above-rows", "1000", "--memory-cap", "1",
                           "--data", str(tmp_path / "data"), "--json", str(out)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 3, done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["completed"] is False and report["memory_cap_mb"] == 1
    assert report["stopped_at"] and report["peak_rss_mb"] > 1
    assert "STOPPED in stage" in done.stdout
    assert list(scratch.iterdir()) == []  # the run's outputs, snapshot and spill folders were deleted


def _load(tmp_path, name: str, frame: pl.DataFrame):
    path = tmp_path / f"{name}.parquet"
    frame.write_parquet(path)
    return loader.load_table(path, TABLES[name], load_profile(None))


def test_typed_parquet_columns_match_the_text_path(tmp_path):
    """Date / Decimal / Boolean Parquet columns give what their text would give, quarantine included."""
    text = pl.DataFrame({"street": ["a", "b", "c", "d"], "program": ["dibao"] * 4, "month": ["2026-10"] * 4,
                         "amount": ["12.50", "-1.00", None, "0.05"], "allocated_on": ["2026-10-01", None, "1800-01-01", "2026-10-02"]})
    typed = text.with_columns(pl.col("amount").cast(pl.Decimal(10, 2)), pl.col("allocated_on").str.to_date(strict=False))
    a, qa, _ = _load(tmp_path, "allocations", text)
    (tmp_path / "allocations.parquet").unlink()
    b, qb, _ = _load(tmp_path, "allocations", typed)
    assert a.equals(b)
    assert qa.drop("value").equals(qb.drop("value"))
    assert b["amount"].to_list() == [1250, 5]


def test_distinct_value_normalisation_matches_row_by_row(tmp_path, monkeypatch):
    months = ["2026-10", "2026/9", " 202608 ", "bad", None, "2026年7月"] * 50
    frame = pl.DataFrame({"street": ["s"] * len(months), "program": ["低保", "dibao", "x"] * 100,
                          "month": months, "amount": ["1.00"] * len(months)})
    direct = _load(tmp_path, "allocations", frame)
    monkeypatch.setattr(loader, "DEDUP_MIN_ROWS", 10)
    deduped = _load(tmp_path, "allocations", frame)  # a few distinct values: exact unique + replace
    assert direct[0].equals(deduped[0]) and direct[1].equals(deduped[1])
    assert direct[1].height > 0
    monkeypatch.setattr(loader, "FEW_DISTINCT", 0)
    hashed = _load(tmp_path, "allocations", frame)  # many distinct values: mapped by hashes
    assert direct[0].equals(hashed[0]) and direct[1].equals(hashed[1])
    monkeypatch.setattr(pl.Series, "hash", lambda self, *a, **k: pl.zeros(self.len(), pl.UInt64, eager=True))
    collided = _load(tmp_path, "allocations", frame)  # every hash equal: mapped by the strings instead
    assert direct[0].equals(collided[0]) and direct[1].equals(collided[1])


def test_person_ids_normalised_per_distinct_value_and_column_by_column(tmp_path, monkeypatch):
    """Repeated ids (a payee every month) take the distinct-value path; a big Parquet file is read
    column by column; both give what the plain row-by-row whole-file load gives."""
    good, bad = "110101199001011237", "110101199001011238"
    ids = [good, bad, " 110101199001011237 ", None] * 40
    frame = pl.DataFrame({"txn_id": [f"T{i}" for i in range(len(ids))], "payee_id": ids,
                          "program": ["dibao"] * len(ids), "month": ["2026-10"] * len(ids),
                          "amount": ["1.00"] * len(ids), "bank_account": ["6222020000000001"] * len(ids),
                          "paid_on": ["2026-10-09"] * len(ids), "street": ["s"] * len(ids),
                          "status": ["paid"] * len(ids)})
    direct = _load(tmp_path, "ledger", frame)
    monkeypatch.setattr(loader, "DEDUP_MIN_ROWS", 10)
    monkeypatch.setattr(loader, "WHOLE_READ_MAX_BYTES", 0)
    deduped = _load(tmp_path, "ledger", frame)
    assert direct[0].equals(deduped[0]) and direct[1].equals(deduped[1])
    assert direct[0]["payee_id"].unique().to_list() == [good]
    assert direct[1].filter(pl.col("column") == "payee_id").height == 80  # bad checksum and missing


def test_canonical_rows_shortcut_matches_normalising_every_row(tmp_path, monkeypatch):
    """Rows already in normal form skip the normalisers; the result, quarantine included, is what
    normalising every row gives, with or without the distinct-value path."""
    good = "110101199001011237"
    ids = [good, "110101199001011238", f" {good}", None, "１１０１０１１９９００１０１１２３７", good] * 30
    n = len(ids)
    frame = pl.DataFrame({"txn_id": [f"T{i}" if i % 7 else f" T{i}\x01" for i in range(n)], "payee_id": ids,
                          "program": ["dibao"] * n, "month": ["2026-10"] * n, "amount": ["1.00"] * n,
                          "bank_account": ["6222020000000001", "6222 0200 0000 0001", "12"] * (n // 3),
                          "paid_on": ["2026-10-09"] * n, "street": ["s"] * n, "status": ["paid"] * n})
    shortcut = _load(tmp_path, "ledger", frame)
    monkeypatch.setattr(loader.N, "CANONICAL_KINDS", frozenset())
    every_row = _load(tmp_path, "ledger", frame)
    assert shortcut[0].equals(every_row[0]) and shortcut[1].equals(every_row[1])
    assert {"payee_id", "bank_account"} <= set(shortcut[1]["column"]) and shortcut[0].height > 0
    monkeypatch.undo()
    monkeypatch.setattr(loader, "DEDUP_MIN_ROWS", 10)
    assert _load(tmp_path, "ledger", frame)[0].equals(every_row[0])


def test_null_and_plain_address_shortcuts_match_normalising_every_row(tmp_path, monkeypatch):
    """Nulls (required or not), plain addresses and the others: the shortcuts give what normalising
    every row gives, quarantine included, with or without the distinct-value path."""
    good = "110101199001011237"
    addresses = ["长伊路210弄1号301室", "长宁区长宁路1号2室", "长宁路100弄5号楼301", " 虹桥路1号 ", "红星村三组", None,
                 "１号", "阳光小区5号301室", "", "长宁路1号\x01"]
    n = len(addresses) * 20
    frame = pl.DataFrame({"case_id": [None if i % 9 == 0 else f"C{i % 50}" for i in range(n)],
                          "person_id": [good, None, "110101199001011238", f" {good}"] * (n // 4),
                          "name": [None, "张三", " 李四 ", ""] * (n // 4), "phone": [None, "13812345678", "1381234"] * (n // 3) + [None] * (n % 3),
                          "address": addresses * 20})
    shortcut = _load(tmp_path, "members", frame)
    monkeypatch.setattr(loader.N, "CANONICAL_KINDS", frozenset())
    monkeypatch.setattr(loader, "PLAIN_ADDRESSES", False)
    every_row = _load(tmp_path, "members", frame)
    assert shortcut[0].equals(every_row[0]) and shortcut[1].equals(every_row[1])
    assert {"case_id", "person_id"} <= set(shortcut[1]["column"]) and shortcut[0].height > 0
    assert shortcut[0]["address_key"].drop_nulls().n_unique() > 5
    monkeypatch.undo()
    monkeypatch.setattr(loader, "DEDUP_MIN_ROWS", 10)
    assert _load(tmp_path, "members", frame)[0].equals(every_row[0])


@pytest.mark.parametrize(("name", "values"), [
    ("program", ["dibao", "tekun"]), ("program", ["dibao", "低保", " tekun"]), ("program", ["dibao", None]),
    ("program", ["dibao", "nonsense"]), ("month", ["2026-10", "2026-09"]), ("month", ["2026-10", "2026/9"]),
    ("street", ["新华路街道", "江苏路街道"])])
def test_few_distinct_codes_give_what_every_row_gives(monkeypatch, name, values):
    """A repeated code column already in normal form is kept as read; any other maps each row."""
    col = TABLES["payments"].column(name)
    s = pl.Series(name, values * 5_000, dtype=pl.String)
    monkeypatch.setattr(loader, "DEDUP_MIN_ROWS", 10)
    deduped = loader._text_columns(col, s, load_profile(None))
    direct = loader._normalise(col, s, load_profile(None))
    assert [c.to_list() for c in deduped] == [direct[c].to_list() for c in direct.columns]


@pytest.mark.parametrize("keys", [["a", "b", "c"], ["a", "b", "a", None], [None, "x", None], [], ["k"] * 3,
                                  [f"T{i}" for i in range(1000)] + ["T7"]])
def test_duplicated_keys_are_found_exactly(keys):
    s = pl.Series(keys, dtype=pl.String)
    dup = loader._duplicated(s)
    expected = s.is_duplicated()
    assert (dup is None) == (not expected.any())
    if dup is not None:
        assert dup.equals(expected)


def test_bulk_insert_many_rows(db_url):
    engine = store.connect(db_url)
    stamp = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [{"finding_id": f"R01-{i:012d}", "rule": "R01", "severity": "high", "street": "华阳路街道",
             "person_id": None if i % 2 else f"P{i}", "case_id": None, "staff_id": None, "facts_hash": "x",
             "first_month": "2026-10", "last_month": "2026-10", "status": "new", "recurring": i % 3 == 0,
             "due_date": date(2026, 12, 1), "amount_recovered_fen": i * 100, "updated_at": stamp} for i in range(500)]
    with engine.begin() as conn:
        store.bulk_insert(conn, store.findings, rows)
    with engine.connect() as conn:
        back = conn.execute(select(store.findings).order_by(store.findings.c.finding_id)).mappings().all()
    assert len(back) == 500
    assert back[3]["person_id"] is None and back[4]["person_id"] == "P4" and back[3]["recurring"] is True
    assert back[7]["amount_recovered_fen"] == 700 and back[7]["due_date"] == date(2026, 12, 1)
    engine.dispose()


def test_parquet_duplicate_keys_and_bad_values_are_quarantined(tmp_path):
    frame = pl.DataFrame({"staff_id": ["S1", "S1", "S2", "S3"], "person_id": ["110101199001011237"] * 3 + ["1101"],
                          "name": ["a", "b", "c", "d"], "role": ["cadre", "cadre", "cadre", "村居干部"],
                          "street": ["x"] * 4, "active_from": [date(2020, 1, 1)] * 4, "extra": [1, 2, 3, 4]})
    accepted, quarantine, stats = _load(tmp_path, "staff", frame)
    assert accepted["staff_id"].to_list() == ["S2"]
    assert sorted(quarantine.select("source_row", "column").rows()) == [(1, "staff_id"), (2, "staff_id"), (4, "person_id")]
    assert (stats.read, stats.accepted, stats.quarantined) == (4, 1, 3)
    assert "extra" not in accepted.columns  # Parquet: only the contract's columns are read


def test_rows_where_is_filter():
    from auditor.engine.frames import rows_where

    frame = pl.DataFrame({"month": ["2026-09", "2026-10", "2026-10", "2026-09", None, "2026-10"], "x": range(6)})
    for cond in (pl.col("month") == "2026-10", pl.col("month") == "2026-09", pl.col("x") >= 3,
                 pl.col("month") == "2026-11"):
        assert rows_where(frame, cond).equals(frame.filter(cond))


def test_every_rule_finds_its_planted_problems_in_a_generated_drop(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    from auditor.engine.runner import load_catalogue
    from auditor.jobs.monthly import run_audit

    manifest = generate("tiny", tmp_path / "data", month="2026-10")
    result = run_audit(month="2026-10", data_dir=tmp_path / "data", out_dir=tmp_path / "out",
                       profile=load_profile(None), db_url=f"sqlite:///{tmp_path / 'a.db'}")
    found = result.findings
    assert set(found["rule"]) == set(load_catalogue()) == set(manifest["planted"])
    for code in ("E07", "E08", "E09", "E10"):  # rules whose finding is the planted case itself
        cases = set(found.filter(pl.col("rule") == code)["case_id"])
        assert set(manifest["planted"][code]) <= cases, code
    for code in ("S01", "S02", "S03"):  # exactly the planted cases: the base population is within the standards
        assert set(found.filter(pl.col("rule") == code)["case_id"]) == set(manifest["planted"][code]), code


def test_density_plants_about_that_share_of_cases_with_findings(tmp_path):
    """``density`` spreads planted problems over every rule; the audit finds about one per planted case."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    from auditor.jobs.monthly import run_audit

    manifest = generate(5000, tmp_path / "data", month="2026-10", density=0.1)
    rules = len(load_catalogue())
    assert manifest["planted_cases"] >= 0.9 * 500
    assert all(len(manifest["planted"][code]) == round(500 / rules) for code in ("E01", "R01", "S01", "D01", "C04"))
    found = run_audit(month="2026-10", data_dir=tmp_path / "data", out_dir=tmp_path / "out",
                      profile=load_profile(None), db_url=f"sqlite:///{tmp_path / 'a.db'}").findings
    assert set(found["rule"]) == set(load_catalogue())
    assert 0.8 * manifest["planted_cases"] <= found.height <= 1.6 * manifest["planted_cases"], found.height
    for code in ("E07", "E08", "S01", "S02"):  # one finding per planted case
        assert set(found.filter(pl.col("rule") == code)["case_id"]) == set(manifest["planted"][code]), code


def test_growth_fit_finds_the_exponent_and_the_fastest_growing_stage():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench import exponent, growth

    assert exponent([1e4, 1e5, 1e6], [2.0, 2.0 * 10**1.5, 2.0 * 10**3]) == pytest.approx(1.5)
    assert exponent([1e4], [1.0]) is None
    runs = [{"scale": s, "cases": n, "total_s": n / 1e3, "cpu_s": n / 1e3, "peak_rss_mb": 100 + n / 1e4,
             "stages": {"load": n / 2e3, "store": (n / 1e4) ** 1.2, "tiny": 1e-3 * n / 1e4}}
            for s, n in (("district", 10_000), ("city", 500_000), ("province", 5_000_000))]
    g = growth(runs)
    assert g["time"] == pytest.approx(1.0) and g["stages"]["store"] == pytest.approx(1.2)
    assert 0 < g["memory"] < 1 and g["fastest_stage"] == "store"


def test_a_drop_generated_in_chunks_is_one_valid_file_per_table(tmp_path):
    """The national generator's path at a tiny size: chunks numbered on, one Parquet file per table
    (several row groups), every id unique, nothing quarantined, every rule fires."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    from auditor.jobs.monthly import run_audit

    manifest = generate(1500, tmp_path / "data", month="2026-10", chunk=500)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(
        [f"{name}.parquet" for name in TABLES] + ["manifest.json"])
    drop = load_drop(tmp_path / "data", load_profile(None))
    assert drop.quarantine.height == 0
    assert {n: s.read for n, s in drop.stats.items()} == manifest["rows"]
    assert drop.tables["cases"]["case_id"].n_unique() == 1500 == drop.tables["cases"].height
    assert drop.tables["staff"]["staff_id"].is_unique().all()
    assert drop.tables["members"]["person_id"].n_unique() >= 0.99 * drop.tables["members"].height
    found = run_audit(month="2026-10", data_dir=tmp_path / "data", out_dir=tmp_path / "out",
                      profile=load_profile(None), db_url=f"sqlite:///{tmp_path / 'a.db'}").findings
    assert set(found["rule"]) == set(load_catalogue())
