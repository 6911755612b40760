"""Shared frames are computed once per run: what a later stage needs is kept from the family that made it."""

from __future__ import annotations

import polars as pl

from auditor.core.config import load_profile
from auditor.engine import frames
from auditor.engine.context import AuditContext
from auditor.engine.runner import run_rules
from auditor.ingest.loader import load_drop
from auditor.jobs.monthly import money_totals


def _ctx(demo_run) -> AuditContext:
    _, _, base = demo_run
    profile = load_profile(None)
    return AuditContext(month="2026-10", profile=profile, drop=load_drop(base / "drop", profile))


def test_money_totals_after_the_rules_reuse_the_reconciliation(demo_run, monkeypatch):
    fresh = _ctx(demo_run)
    frame, _ = run_rules(fresh, ["R01", "R02", "R03", "R04", "R05"])
    expected = money_totals(fresh, frame)  # computed here from the reconciliation frame still held

    ctx = _ctx(demo_run)
    all_frame, _ = run_rules(ctx)  # every family: the reconciliation is released before the standards ran

    def again(*_args, **_kwargs):
        raise AssertionError("reconciliation computed a second time")

    monkeypatch.setattr(frames, "per_key", again)  # what the reconciliation groups its keys with
    got = money_totals(ctx, all_frame)
    assert got == expected
    assert got.matched != "0.00" and got.at_risk != "0.00"  # the demo has clean and flagged keys


def test_key_totals_without_the_r_rules_are_computed(demo_run):
    ctx = _ctx(demo_run)
    totals = ctx.shared(frames.key_totals)
    full = frames.reconciliation(_ctx(demo_run))
    assert totals.columns == list(frames.KEY_TOTALS) and totals.height > 0
    key = ["person_id", "program"]
    assert totals.sort(key).equals(full.select(frames.KEY_TOTALS).sort(key))


def test_testing_a_few_ids_against_every_id_gives_the_same_answer_either_way():
    every = pl.Series([f"C{i:04d}" for i in range(200)])
    for wanted in (pl.Series(["C0003", "C0150", "X1", None, "C0003"]),  # a few: the set is built of those
                   pl.Series([f"C{i:04d}" for i in range(0, 400, 2)])):  # many: every id is the set
        held = wanted.is_in(frames._present(every, wanted).implode())
        assert held.to_list() == wanted.is_in(every.implode()).to_list()
    assert frames._present(every, pl.Series(["C0007", "nope"])).to_list() == ["C0007"]
