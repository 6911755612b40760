"""Memory cuts (issue 22) change nothing that is found or totalled."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

from auditor.core.config import load_profile
from auditor.engine.context import AuditContext
from auditor.engine.frames import reconciliation
from auditor.ingest.loader import load_drop
from auditor.jobs.monthly import key_totals

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


def test_key_totals_are_the_reconciliation_totals_of_paid_keys(tiny_drop):
    """The money totals' narrow per-key frame equals the reconciliation frame's totals on every paid key."""
    ctx = AuditContext(month=MONTH, profile=load_profile(None), drop=load_drop(tiny_drop, load_profile(None)))
    columns = ["person_id", "program", "paid_fen", "n_paid", "instructed_fen"]
    full = reconciliation(ctx).filter(pl.col("n_paid") > 0).select(columns).sort("person_id", "program")
    narrow = key_totals(ctx).sort("person_id", "program")
    assert narrow.equals(full)
    # the drop has what makes the comparison worth making: unmatched, uninstructed and repeated keys
    assert narrow.filter(pl.col("paid_fen") != pl.col("instructed_fen")).height > 0
    assert narrow.filter(pl.col("instructed_fen") == 0).height > 0
    assert narrow.filter(pl.col("n_paid") > 1).height > 0
