"""双随机: the draw is reproducible from month and published seed, and avoids own-street reviewers."""

from __future__ import annotations

from auditor.core.config import load_profile
from auditor.engine.context import AuditContext
from auditor.jobs.sample import draw_sample


def _ctx(demo_run, month="2026-10", seed=None):
    from auditor.ingest.loader import load_drop

    _, _, base = demo_run
    profile = load_profile(None)
    if seed:
        profile = profile.model_copy(update={"sample": profile.sample.model_copy(update={"seed": seed})})
    return AuditContext(month=month, profile=profile, drop=load_drop(base / "drop", profile))


def test_same_seed_and_month_redraw_the_same_sample(demo_run):
    a, b = draw_sample(_ctx(demo_run)), draw_sample(_ctx(demo_run))
    assert a.equals(b) and a.height == 3 * 10


def test_another_seed_draws_differently_and_reviewers_avoid_own_street(demo_run):
    a, c = draw_sample(_ctx(demo_run)), draw_sample(_ctx(demo_run, seed="另一个公开种子"))
    assert a["case_id"].to_list() != c["case_id"].to_list()
    for row in a.iter_rows(named=True):
        assert row["reviewer_staff_id"] and row["reviewer_street"] != row["street"]
