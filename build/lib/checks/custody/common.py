"""Pieces the C rules share: one finding per subject from (payee, account) rows and extra chains."""

from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.engine.context import AuditContext
from auditor.engine.relations import path_aggs, with_payee_chain


def by_subject(ctx: AuditContext, rows: pl.DataFrame, subject: list[str], chains: list[pl.Expr],
               *extra: pl.Expr) -> pl.DataFrame:
    """Group (payee_id, bank_account, ...) rows into findings with paid amount, street and paths.

    The payee's case, paid txn ids and own chain (``pl.col("chain")``) are added here, only for
    the rows that fire.
    """
    rows = with_payee_chain(ctx, rows)
    stacked = pl.concat([rows.select(*subject, pl.col("payee_id").alias("_payee"),
                                     pl.col("bank_account").alias("_acct"), "fen", "street", "txn_ids",
                                     c.alias("chain")) for c in chains])
    paid = (rows.select(list(dict.fromkeys([*subject, "payee_id", "bank_account", "fen"]))).unique()
            .group_by(subject).agg(amount_fen=pl.col("fen").sum()))
    found = (stacked.sort(pl.col("chain").struct.field("path"))
             .group_by(subject, maintain_order=True)
             .agg(pl.col("street").sort().first(), pl.col("txn_ids").explode().unique().sort(),
                  *path_aggs(), *extra)
             .join(paid, on=subject))
    return found.with_columns(paid=yuan(pl.col("amount_fen"))).sort(subject)


def evidence(*fields) -> pl.Expr:
    return pl.struct(*fields, "paid", "txn_ids", "paths", "nodes", "edges").struct.json_encode()
