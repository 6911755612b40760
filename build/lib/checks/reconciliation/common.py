"""Pieces the R rules share: the per-key evidence, the title prefix and conditions more than one rule reads."""

from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.engine.frames import program_label


def key_evidence(*extra: pl.Expr) -> pl.Expr:
    """JSON of a reconciliation key: both sides' totals and rows."""
    return pl.struct(
        pl.col("person_id"), pl.col("program"), pl.col("n_instr"),
        yuan(pl.col("instructed_fen")).alias("instructed"), pl.col("n_paid"),
        yuan(pl.col("paid_fen")).alias("paid"),
        pl.col("instructions"), pl.col("paid").alias("paid_rows"),
        pl.col("not_paid").alias("not_paid_rows"), *extra,
    ).struct.json_encode()


def key_subject(month: str) -> pl.Expr:
    """``领款人 310… 低保 2026-10`` — the start of every R title on a key."""
    return pl.format("领款人{} {} {}", pl.col("person_id"), program_label(pl.col("program")), pl.lit(month))


def duplicate_condition() -> pl.Expr:
    """Two or more paid rows for the key and more paid rows than instructions."""
    return (pl.col("n_paid") >= 2) & (pl.col("n_paid") > pl.col("n_instr"))
