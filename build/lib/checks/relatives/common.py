"""Pieces the K rules share: grouping link chains into one finding per subject."""

from __future__ import annotations

import polars as pl

from auditor.engine.relations import path_aggs


def by_subject(links: pl.DataFrame, subject: list[str], *extra: pl.Expr, street: str = "s_street") -> pl.DataFrame:
    """One row per subject: street, cases, paths/nodes/edges (deterministic order)."""
    return (links.sort(pl.col("chain").struct.field("path"))
            .group_by(subject, maintain_order=True)
            .agg(pl.col(street).first().alias("street"), pl.col("s_name").first().alias("s_name"),
                 pl.col("case_id").unique().sort().alias("cases"), *path_aggs(), *extra)
            .sort(subject))


def evidence(*fields: pl.Expr) -> pl.Expr:
    return pl.struct(*fields, "cases", "paths", "nodes", "edges").struct.json_encode()
