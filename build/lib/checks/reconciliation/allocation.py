"""Allocations of M per (street, program) joined with what was paid."""

from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.frames import street_program_paid


def allocated_vs_paid(ctx: AuditContext) -> pl.DataFrame:
    """street, program, alloc_fen (null: no allocation row), n_alloc, paid_fen, n_paid."""
    alloc = (ctx.table("allocations").filter(pl.col("month") == ctx.month)
             .group_by("street", "program").agg(alloc_fen=pl.col("amount").sum(), n_alloc=pl.len()))
    both = alloc.join(ctx.shared(street_program_paid), on=["street", "program"], how="full", coalesce=True)
    return both.with_columns(paid_fen=pl.col("paid_fen").fill_null(0), n_paid=pl.col("n_paid").fill_null(0),
                             n_alloc=pl.col("n_alloc").fill_null(0))
