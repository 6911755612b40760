"""Shared frames are computed once per run: what a later stage needs is kept from the family that made it."""

from __future__ import annotations

import polars as pl

from auditor.core.config import load_profile
from auditor.core.money import fen_to_yuan
from auditor.engine import frames
from auditor.engine.context import AuditContext, _key
from auditor.engine.runner import rules_in, run_rules
from auditor.ingest.loader import load_drop
from auditor.jobs.monthly import MoneyTotals, money_totals

PAID_CASES = _key(frames.paid_cases)


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


def _every_key(ctx: AuditContext) -> pl.DataFrame:
    """``KEY_TOTALS`` of every key of M (clean or not), from the instructions and paid rows."""
    key = ["payee_id", "program"]
    instr = ctx.shared(frames.instructions).group_by(key).agg(instructed_fen=pl.col("amount").sum(), n_instr=pl.len())
    paid = ctx.shared(frames.paid_rows).group_by(key).agg(paid_fen=pl.col("amount").sum(), n_paid=pl.len())
    return (instr.join(paid, on=key, how="full", coalesce=True)
            .with_columns(pl.col("instructed_fen", "paid_fen", "n_instr", "n_paid").fill_null(0),
                          pl.col("program").cast(pl.String))
            .rename({"payee_id": "person_id"}))


def test_key_totals_without_the_r_rules_are_computed(demo_run):
    ctx = _ctx(demo_run)
    totals = ctx.shared(frames.key_totals)
    full = frames.reconciliation(_ctx(demo_run))
    every = _every_key(_ctx(demo_run))
    assert totals.columns == list(frames.KEY_TOTALS) and 0 < totals.height < every.height  # unclean keys only
    key = ["person_id", "program"]
    assert totals.sort(key).equals(full.select(frames.KEY_TOTALS).sort(key))
    clean = every.join(totals.with_columns(pl.col("program").cast(pl.String)), on=key, how="anti")
    assert clean.filter((pl.col("n_instr") != 1) | (pl.col("n_paid") != 1)
                        | (pl.col("paid_fen") != pl.col("instructed_fen"))).is_empty()
    assert ctx.shared(frames.money_sums).row(0) == (
        every["instructed_fen"].sum(), every["paid_fen"].sum(), clean["paid_fen"].sum())


def _money_from_every_key(every: pl.DataFrame, frame: pl.DataFrame) -> MoneyTotals:
    """The money totals from every key's totals (as they were kept before)."""
    recon = frame.filter(pl.col("rule").is_in(rules_in("reconciliation_totals")))
    flagged = recon.group_by("person_id", "program").agg(fen=pl.col("amount_fen").fill_null(0).max())
    keys = every.join(flagged, on=["person_id", "program"], how="anti")
    matched = keys.filter((pl.col("paid_fen") == pl.col("instructed_fen")) & (pl.col("n_paid") > 0))["paid_fen"].sum()
    return MoneyTotals(instructed=fen_to_yuan(every["instructed_fen"].sum()), paid=fen_to_yuan(every["paid_fen"].sum()),
                       matched=fen_to_yuan(matched), at_risk=fen_to_yuan(flagged["fen"].sum()))


def test_money_totals_from_the_unclean_keys_equal_those_of_every_key(demo_run):
    """Only the keys that do not reconcile cleanly are kept for the money totals; a finding on a clean key
    (no R rule reports one) still takes its paid row out of the matched money."""
    ctx = _ctx(demo_run)
    frame, _ = run_rules(ctx, ["R01", "R02", "R03", "R04", "R05"])
    every = _every_key(_ctx(demo_run))
    assert money_totals(ctx, frame) == _money_from_every_key(every, frame)
    key = ["person_id", "program"]
    clean = every.join(ctx.shared(frames.key_totals).with_columns(pl.col("program").cast(pl.String)), on=key,
                       how="anti").row(0, named=True)
    on_clean = pl.concat([frame, frame.head(1).with_columns(
        person_id=pl.lit(clean["person_id"]), program=pl.lit(clean["program"]), amount_fen=pl.lit(0, pl.Int64))])
    got = money_totals(ctx, on_clean)
    assert got == _money_from_every_key(every, on_clean) and got.matched != money_totals(ctx, frame).matched


def test_kept_frames_are_let_go_once_no_family_still_to_run_uses_them(demo_run):
    """The paid cases (kept for the dishonesty and eligibility families) are computed once for both and
    not held through the families after them."""
    ctx = _ctx(demo_run)
    held: dict[str, object] = {}
    run_rules(ctx, ["D01", "E08", "R01"], on_rule=lambda s: held.update({s.code: ctx._cache.get(PAID_CASES)}))
    assert held["D01"] is not None and held["E08"] is held["D01"] and held["R01"] is None
    ctx.shared(frames.paid_cases)
    ctx.release()  # without the families still to run: every kept frame stays
    assert {PAID_CASES, _key(frames.key_totals)} <= set(ctx._cache)
    ctx.release(())
    assert PAID_CASES not in ctx._cache and _key(frames.key_totals) in ctx._cache


def test_testing_a_few_ids_against_every_id_gives_the_same_answer_either_way():
    every = pl.Series([f"C{i:04d}" for i in range(200)])
    for wanted in (pl.Series(["C0003", "C0150", "X1", None, "C0003"]),  # a few: the set is built of those
                   pl.Series([f"C{i:04d}" for i in range(0, 400, 2)])):  # many: every id is the set
        held = wanted.is_in(frames._present(every, wanted).implode())
        assert held.to_list() == wanted.is_in(every.implode()).to_list()
    assert frames._present(every, pl.Series(["C0007", "nope"])).to_list() == ["C0007"]
