"""Pieces the E rules share: period tests, month arithmetic, member matches, money not due."""

from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.core.periods import month_first
from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_history_with_case, paid_members_of, table_rows

EVIDENCE_ROWS = 20


def member_matches(ctx: AuditContext, table: str, keep: pl.Expr, rows: pl.Expr,
                   programs: list[str] | None = None) -> pl.DataFrame:
    """Members of cases paid for M with a ``table`` row satisfying ``keep``, one row per person.

    Columns: person_id, name, street, program, case_id (first of the person's
    cases), case_ids, rows (``rows`` struct of the matching table rows).
    """
    hits = table_rows(ctx, table, keep)
    members = paid_members_of(ctx, hits)
    if programs is not None:
        members = members.filter(pl.col("program").is_in(programs))
    hits = hits.join(members.select("person_id").unique(), on="person_id", how="semi")
    per_person = hits.group_by("person_id").agg(rows=rows.head(EVIDENCE_ROWS))
    return member_cases(members.join(per_person, on="person_id", how="semi")).join(per_person, on="person_id")


def member_cases(members: pl.DataFrame) -> pl.DataFrame:
    """Members (person_id, case rows) -> one row per person with their paid cases."""
    return (members.sort("case_id").group_by("person_id").agg(
        name=pl.col("name").first(), street=pl.col("street").first(), program=pl.col("program").first(),
        case_id=pl.col("case_id").first(), case_ids=pl.col("case_id"), programs=pl.col("program")))


def paid_for_month(members: pl.DataFrame) -> pl.DataFrame:
    """Members (person_id, case_id, paid_fen, from ``paid_members_of``) -> per person ``amount_fen``:
    what their cases were paid for M (each case once)."""
    return (members.unique(["person_id", "case_id"]).group_by("person_id")
            .agg(amount_fen=pl.col("paid_fen").sum()))


def not_due(ctx: AuditContext, keys: pl.DataFrame, due: pl.Expr, by: str) -> pl.DataFrame:
    """Money paid, months up to and including M, on months that were not due.

    ``keys`` holds ``case_id`` and the columns ``due`` reads; ``due`` is True
    for a benefit month (columns ``month``, ``m_first``, ``m_last``) that was
    NOT due. Returns per ``by``: not_due_fen and not_due_months (sorted).
    """
    rows = (keys.join(paid_history_with_case(ctx, keys["case_id"]), on="case_id", how="inner")
            .with_columns(m_first=month_first(pl.col("month")))
            .with_columns(m_last=pl.col("m_first").dt.month_end())
            .filter(due).unique([by, "txn_id"]))
    return rows.group_by(by).agg(not_due_fen=pl.col("amount").sum(),
                                 not_due_months=pl.col("month").unique().sort())


def with_not_due(frame: pl.DataFrame, amounts: pl.DataFrame, by: str) -> pl.DataFrame:
    return frame.join(amounts, on=by, how="left").with_columns(
        amount_fen=pl.col("not_due_fen").fill_null(0),
        not_due_months=pl.col("not_due_months").fill_null([]),
        not_due_total=yuan(pl.col("not_due_fen").fill_null(0)))
