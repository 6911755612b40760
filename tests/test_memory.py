"""Memory cuts (issue 22) change nothing that is found or totalled."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from auditor.core.config import load_profile
from auditor.engine.context import AuditContext
from auditor.ingest.loader import load_drop

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2026-10"


@pytest.fixture(scope="module")
def tiny_drop(tmp_path_factory) -> Path:
    """The benchmark generator's tiny drop (every rule planted)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    folder = tmp_path_factory.mktemp("memory") / "drop"
    generate("tiny", folder, month=MONTH)
    return folder


def _count_whole_reads(monkeypatch) -> list[str]:
    """The names of streamed tables read whole from the spill (``SpilledTables[name]``) from now on."""
    from auditor.ingest.spill import SpilledTables

    whole_reads: list[str] = []
    read = SpilledTables.__getitem__

    def counting(self, name):
        if self.on_disk(name):
            whole_reads.append(name)
        return read(self, name)

    monkeypatch.setattr(SpilledTables, "__getitem__", counting)
    return whole_reads


def _audit(folder: Path, compact: bool) -> tuple[pl.DataFrame, pl.DataFrame, object]:
    from auditor.engine.runner import run_rules
    from auditor.jobs.monthly import money_totals
    from auditor.jobs.sample import draw_sample

    profile = load_profile(None)
    ctx = AuditContext(month=MONTH, profile=profile, drop=load_drop(folder, profile, compact=compact))
    findings, _ = run_rules(ctx)
    return findings, draw_sample(ctx), money_totals(ctx, findings)


@pytest.mark.parametrize("drop", ["tiny", "demo"])
def test_compact_tables_find_total_and_sample_the_same(drop, tiny_drop, tmp_path):
    """Holding the few-valued text columns as categoricals changes no finding (ids, facts, amounts, evidence),
    no sample draw and no money total."""
    if drop == "demo":
        from auditor.demo import generate

        folder = tmp_path / "demo"
        generate(folder, month=MONTH, n_cases=800)
    else:
        folder = tiny_drop
    compacted = load_drop(folder, load_profile(None), compact=True)
    assert compacted.tables["ledger"].schema["street"] == pl.Categorical
    assert compacted.tables["cases"].schema["status"] == pl.Categorical
    assert compacted.tables["cases"].schema["payee_id"] == pl.String
    text, sample, money = _audit(folder, compact=False)
    cat, cat_sample, cat_money = _audit(folder, compact=True)
    assert text.height > 0 and set(text["rule"]) == set(cat["rule"])
    assert cat.equals(text)
    assert cat_sample.equals(sample)
    assert cat_money == money


def test_exclusive_pair_is_in_text_order_whatever_the_code_order():
    """E06 pairs programs in text order; on codes ordered otherwise (an Enum here, the pool order of a
    categorical) ``min_horizontal`` alone would follow the codes."""
    from checks.eligibility.E06 import _pair

    codes = pl.Enum(["tekun", "dibao_edge", "dibao"])
    frame = pl.DataFrame({"a": ["tekun", "dibao"], "b": ["dibao", "dibao_edge"]}, schema={"a": codes, "b": codes})
    assert frame.select(pl.min_horizontal("a", "b")).to_series().to_list() == ["tekun", "dibao_edge"]  # codes
    assert frame.select(_pair("a", "b")).to_series().to_list() == ["dibao|tekun", "dibao|dibao_edge"]


def test_run_holds_codes_as_categoricals_and_its_snapshot_writes_them_as_dictionary_text(tiny_drop, tmp_path):
    """``run_audit`` loads compacted tables; the snapshot writes them as held (dictionary-encoded Parquet
    text: polars reads categoricals back, any other reader text), and a rerun from the snapshot finds the same."""
    from auditor.jobs.monthly import run_audit

    profile = load_profile(None).model_copy(update={"snapshot_dir": str(tmp_path / "snapshots")})
    first = run_audit(month=MONTH, data_dir=tiny_drop, out_dir=tmp_path / "out1", profile=profile,
                      db_url=f"sqlite:///{tmp_path / 'a.db'}")
    (snapshot,) = (tmp_path / "snapshots").iterdir()
    ledger = pl.read_parquet_schema(snapshot / "ledger.parquet")
    assert ledger["street"] == ledger["status"] == ledger["month"] == pl.Categorical
    assert duckdb.sql(f"select typeof(street), typeof(status), typeof(month) from '{snapshot}/ledger.parquet'"
                      ).limit(1).fetchall() == [("VARCHAR", "VARCHAR", "VARCHAR")]
    again = run_audit(month=MONTH, data_dir=tiny_drop, out_dir=tmp_path / "out2", profile=profile,
                      db_url=f"sqlite:///{tmp_path / 'a.db'}")
    assert again.summary["loaded_from_snapshot"] == first.run_id
    assert again.findings.drop("month").equals(first.findings.drop("month"))
    assert (tmp_path / "out2" / "findings.csv").read_bytes() == (tmp_path / "out1" / "findings.csv").read_bytes()


def test_streamed_drop_snapshot_is_copied_by_slices_and_equals_the_in_memory_one(tiny_drop, tmp_path, monkeypatch):
    """A streamed drop's snapshot is copied from the spill a slice at a time (no spilled table is read
    whole) and holds exactly the tables of an in-memory drop's snapshot."""
    from auditor.ingest.spill import SpilledTables
    from auditor.jobs import snapshot

    monkeypatch.setattr(snapshot, "INLINE_ROWS", 0)  # the people index (reads tables whole) is another job's
    monkeypatch.setattr(snapshot, "index_later", lambda folder: None)
    profile = load_profile(None)
    memory = snapshot.write_snapshot(tmp_path / "memory", run_id=1, month=MONTH, profile=profile,
                                     drop=load_drop(tiny_drop, profile, compact=True), inputs={})
    streamed_drop = load_drop(tiny_drop, profile, stream_rows=1000, compact=True)
    assert isinstance(streamed_drop.tables, SpilledTables) and streamed_drop.tables.on_disk("ledger")
    whole_reads = _count_whole_reads(monkeypatch)
    streamed = snapshot.write_snapshot(tmp_path / "streamed", run_id=1, month=MONTH, profile=profile,
                                       drop=streamed_drop, inputs={})
    assert whole_reads == []
    names = sorted(p.name for p in memory.glob("*.parquet"))
    assert names == sorted(p.name for p in streamed.glob("*.parquet")) and "ledger.parquet" in names
    for name in names:
        a, b = pl.read_parquet(memory / name), pl.read_parquet(streamed / name)
        assert b.equals(a), name  # the same types too: the codes as categoricals in both


def test_streamed_rerun_keeps_the_snapshot_big_tables_on_disk_and_finds_the_same(tiny_drop, tmp_path, monkeypatch):
    """A rerun from the snapshot with ``stream_above_rows`` set copies each bigger table to the spill a
    slice at a time (never held whole, as the loader would), and finds exactly what the first run found."""
    from auditor.ingest.spill import SpilledTables
    from auditor.jobs import monthly, snapshot
    from auditor.jobs.monthly import run_audit

    monkeypatch.setattr(snapshot, "INLINE_ROWS", 0)  # the people index is another job's
    monkeypatch.setattr(snapshot, "index_later", lambda folder: None)
    profile = load_profile(None).model_copy(update={"snapshot_dir": str(tmp_path / "snapshots"),
                                                    "stream_above_rows": 1000})
    first = run_audit(month=MONTH, data_dir=tiny_drop, out_dir=tmp_path / "out1", profile=profile,
                      db_url=f"sqlite:///{tmp_path / 'a.db'}")
    loaded: list = []
    load = snapshot.load_snapshot

    def keeping(*args, **kwargs):
        loaded.append(load(*args, **kwargs))
        return loaded[-1]

    monkeypatch.setattr(monthly, "load_snapshot", keeping)
    whole_reads = _count_whole_reads(monkeypatch)
    again = run_audit(month=MONTH, data_dir=tiny_drop, out_dir=tmp_path / "out2", profile=profile,
                      db_url=f"sqlite:///{tmp_path / 'a.db'}")
    assert again.summary["loaded_from_snapshot"] == first.run_id
    (drop,) = loaded
    assert isinstance(drop.tables, SpilledTables)
    big = [n for n, s in drop.stats.items() if s.accepted > 1000]
    assert "ledger" in big and all(drop.tables.on_disk(n) for n in big)
    assert not any(drop.tables.on_disk(n) for n in drop.stats if n not in big)
    assert len(list(drop.tables.folder.glob("ledger.*.parquet"))) > 1  # copied in slices
    assert whole_reads == []
    assert pl.Categorical in drop.tables.scan("ledger").collect_schema().dtypes()  # compacted as loaded
    assert (tmp_path / "out2" / "findings.csv").read_bytes() == (tmp_path / "out1" / "findings.csv").read_bytes()
    assert (tmp_path / "out2" / "sample.csv").read_bytes() == (tmp_path / "out1" / "sample.csv").read_bytes()


def test_in_parts_gives_the_rows_of_the_whole_join():
    """``in_parts`` splits frames alike by a hash of the column: a join on it finds the same rows."""
    from auditor.engine import frames

    left = pl.DataFrame({"a": [f"A{i % 37}" for i in range(500)], "p": [f"P{i % 11}" for i in range(500)]})
    right = pl.DataFrame({"a": [f"A{i}" for i in range(0, 40, 2)], "x": list(range(20))})

    def fn(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
        return left.join(right.select("a", p=pl.lit("P3")), on=["a", "p"], how="anti").join(right, on="a")

    whole = fn(left, right).sort(pl.all())
    assert frames.in_parts(fn, "a", left, right).sort(pl.all()).equals(whole)  # small: one part
    calls: list[int] = []

    def counting(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
        calls.append(left.height)
        return fn(left, right)

    frames_parts = frames.PART_ROWS
    try:
        frames.PART_ROWS = 100
        parted = frames.in_parts(counting, "a", left, right)
    finally:
        frames.PART_ROWS = frames_parts
    assert len(calls) == frames.PARTS and sum(calls) == left.height and max(calls) < left.height
    assert whole.height > 0 and parted.sort(pl.all()).equals(whole)


@pytest.mark.parametrize("codes, where", [
    (["C01", "C02", "C03", "C04"], "checks.custody.C02"),
    (["R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08"], "auditor.engine.frames"),
    (["S02", "S03"], "checks.standards.common"),  # the member counts, once per rule
])
def test_rules_worked_in_parts_find_the_same(tiny_drop, monkeypatch, codes, where):
    """The rules whose big joins are worked in parts at national scale (C02, the reconciliation, the
    standards' member counts) find exactly what they find whole."""
    import importlib

    from auditor.engine import frames
    from auditor.engine.runner import run_rules

    profile = load_profile(None)
    whole, _ = run_rules(AuditContext(month=MONTH, profile=profile, drop=load_drop(tiny_drop, profile)), codes)
    monkeypatch.setattr(frames, "PART_ROWS", 10)
    parts: list[int] = []
    in_parts = frames.in_parts

    def counting(fn, column, *frames_):
        return in_parts(lambda *f: parts.append(f[0].height) or fn(*f), column, *frames_)

    monkeypatch.setattr(importlib.import_module(where), "in_parts", counting)
    parted, _ = run_rules(AuditContext(month=MONTH, profile=profile, drop=load_drop(tiny_drop, profile)), codes)
    assert len(parts) % frames.PARTS == 0 and parts and min(parts) > 0
    assert set(whole["rule"]) == set(codes)  # every rule fires on the tiny drop
    assert parted.equals(whole)


def test_the_rules_frames_are_freed_before_the_store_outputs_and_snapshot(tiny_drop, tmp_path, monkeypatch):
    """Once the summary is made, the audit context (the rules' shared frames and tables read from disk:
    gigabytes at national scale) is no longer held while the store, the outputs and the snapshot run."""
    import gc
    import weakref

    from auditor.jobs import monthly

    contexts: list[weakref.ref] = []
    alive_at_snapshot: list[bool] = []

    class Recorded(AuditContext):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            contexts.append(weakref.ref(self))

    write = monthly.write_snapshot

    def checking(*args, **kwargs):
        gc.collect()
        alive_at_snapshot.append(any(ref() is not None for ref in contexts))
        return write(*args, **kwargs)

    monkeypatch.setattr(monthly, "AuditContext", Recorded)
    monkeypatch.setattr(monthly, "write_snapshot", checking)
    profile = load_profile(None).model_copy(update={"snapshot_dir": str(tmp_path / "snapshots")})
    result = monthly.run_audit(month=MONTH, data_dir=tiny_drop, out_dir=tmp_path / "out", profile=profile,
                               db_url=f"sqlite:///{tmp_path / 'a.db'}")
    assert result.findings.height > 0 and len(contexts) == 1
    assert alive_at_snapshot == [False]


@pytest.mark.parametrize("stream_rows", [None, 50])
def test_standards_sample_and_money_totals_read_their_own_columns(tiny_drop, stream_rows):
    """The standards rules, the sample and the money totals read only the rows and columns they use
    (national: the shared instructions, active cases and paid rows were 10 GiB on top of the run): no
    shared frame is made for them, and they find, draw and total what the shared frames gave."""
    from auditor.core.money import fen_to_yuan
    from auditor.engine import frames
    from auditor.engine.runner import run_rules
    from auditor.jobs.monthly import money_totals
    from auditor.jobs.sample import draw_sample

    profile = load_profile(None)
    ctx = AuditContext(month=MONTH, profile=profile,
                       drop=load_drop(tiny_drop, profile, stream_rows=stream_rows, compact=True))
    codes = ["S01", "S02", "S03"]
    found, _ = run_rules(ctx, codes)
    assert set(found["rule"]) == set(codes) and not ctx._cache
    sample = draw_sample(ctx)
    assert not ctx._cache
    everything, _ = run_rules(ctx)
    ctx.release(())  # as the monthly run does: no family is still to run
    money = money_totals(ctx, everything)
    assert {key.rsplit(".", 1)[1] for key in ctx._cache} == {"key_totals", "money_sums"}  # kept for the whole run

    shared = AuditContext(month=MONTH, profile=profile, drop=load_drop(tiny_drop, profile, compact=True))
    active = shared.shared(frames.active_cases)
    assert sample.height > 0 and set(sample["case_id"]) <= set(active["case_id"])
    assert found.equals(everything.filter(pl.col("rule").is_in(codes)))
    instructed = shared.shared(frames.instructions)["amount"].sum()
    paid = shared.shared(frames.paid_rows)["amount"].sum()
    assert (money.instructed, money.paid) == (fen_to_yuan(instructed), fen_to_yuan(paid))


def test_rows_behind_findings_are_matched_to_their_cases_read_by_key(tiny_drop, monkeypatch):
    """A few paid rows (those behind some findings) are matched to the cases of their case ids and payees,
    read by key, not to every case: the same cases, the same findings (E06, E08–E10: months not due,
    txn ids)."""
    from auditor.engine import frames
    from auditor.engine.runner import run_rules

    codes = ["E06", "E08", "E09", "E10"]
    profile = load_profile(None)

    def run() -> pl.DataFrame:
        drop = load_drop(tiny_drop, profile, stream_rows=50, compact=True)
        return run_rules(AuditContext(month=MONTH, profile=profile, drop=drop), codes)[0]

    by_key = run()
    heights: list[tuple[int, int]] = []
    cases_of = frames._cases_of

    def every_case(ctx: AuditContext, paid: pl.DataFrame) -> pl.DataFrame:
        heights.append((cases_of(ctx, paid).height, ctx.drop.stats["cases"].accepted))
        return ctx.table("cases", *frames.CASE_KEYS)

    monkeypatch.setattr(frames, "_cases_of", every_case)
    whole = run()
    assert set(by_key["rule"]) == set(codes) and by_key.equals(whole)
    assert any(few < every for few, every in heights)  # some calls read only a few cases
