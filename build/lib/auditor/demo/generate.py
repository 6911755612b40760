"""Build the demo district, plant every rule's problems (one plant per rule, from the plant
registry), write drop and truth."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from auditor.demo import plant_eligibility, plant_reconciliation, plant_relations
from auditor.demo.district import District, build_base
from auditor.demo.plants import load_plants
from auditor.demo.write import write_drop


def build(month: str = "2026-10", n_cases: int = 3000, seed: int = 20261001) -> District:
    """The clean district, its bad rows and department tables, every rule's plant, then allocations."""
    d = build_base(month, n_cases, seed)
    plant_relations.clean_tables(d)
    plant_reconciliation.plant_bad_rows(d)
    plant_eligibility.shared_tables(d)
    for plant in load_plants().values():
        plant.demo(d)
    plant_reconciliation.allocate(d)
    return d


def generate(out_dir: str | Path, month: str = "2026-10", n_cases: int = 3000,
             seed: int = 20261001) -> District:
    """Write the drop to ``out_dir`` and the planted truth to ``out_dir/../truth.csv``."""
    out = Path(out_dir)
    d = build(month, n_cases, seed)
    write_drop(d, out)
    truth = pl.DataFrame(d.truth, schema={"rule": pl.String, "finding_id": pl.String, "subject": pl.String,
                                 "note": pl.String})
    near = pl.DataFrame(d.near_misses, schema=truth.schema)
    truth.with_columns(expect=pl.lit("fire")).vstack(near.with_columns(expect=pl.lit("no_fire"))) \
        .write_csv(out.parent / "truth.csv")
    return d
