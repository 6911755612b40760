"""The demo's planted truth is found with full recall and no false positive."""

from __future__ import annotations

import polars as pl

from auditor.engine.runner import load_catalogue
from auditor.jobs.monthly import OUTPUT_FILES


def test_every_planted_problem_is_found(demo_run):
    district, result, _ = demo_run
    found = set(result.findings["finding_id"].to_list())
    missed = [t for t in district.truth if t["finding_id"] not in found]
    assert not missed, f"planted problems not found: {missed}"


def test_no_finding_outside_the_planted_truth(demo_run):
    district, result, _ = demo_run
    planted = {t["finding_id"] for t in district.truth}
    extra = result.findings.filter(~pl.col("finding_id").is_in(list(planted)))
    assert extra.height == 0, f"false positives:\n{extra.select('rule', 'title')}"


def test_no_near_miss_fires(demo_run):
    district, result, _ = demo_run
    found = set(result.findings["finding_id"].to_list())
    fired = [n for n in district.near_misses if n["finding_id"] in found]
    assert not fired, f"near-misses fired: {fired}"


def test_demo_plants_every_rule_that_ran(demo_run):
    district, result, _ = demo_run
    planted = {t["rule"] for t in district.truth}
    ran = set(result.summary["checks_run"])
    assert ran <= planted, f"rules with nothing planted in the demo: {sorted(ran - planted)}"
    assert set(load_catalogue()) == ran, f"rules not run on the demo: {result.summary['checks_not_run']}"


def test_demo_writes_all_outputs(demo_run):
    _, result, _ = demo_run
    for name in OUTPUT_FILES:
        assert (result.out_dir / name).stat().st_size > 0, name


def test_demo_quarantines_its_bad_rows(demo_run):
    _, result, _ = demo_run
    tables = result.summary["tables"]
    for name, t in tables.items():
        assert t["read"] == t["accepted"] + t["quarantined"], name
    assert result.summary["quarantined_rows"] >= 3
