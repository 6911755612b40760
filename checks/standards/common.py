"""Pieces the S rules share: the standard in force in M, active cases with their member count,
exact ratio arithmetic (integer fen scaled by ``SCALE``, no floats)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from auditor.core.vocab import PROGRAM_LABELS
from auditor.engine.context import AuditContext
from auditor.engine.frames import active_case_rows, in_parts
from auditor.engine.registry import Rule, RuleNotRun

SCALE = 10_000  # profile ratios have at most 4 decimals, so ratio * SCALE is a whole number


def scaled(ratio: Decimal) -> int:
    """A profile ratio times ``SCALE``, exactly."""
    return int(ratio * SCALE)


def ceil_unscaled(e: pl.Expr) -> pl.Expr:
    """A positive scaled fen amount -> whole fen, rounded up (a shortfall or excess of a fraction of a fen is 1 fen)."""
    return (e + SCALE - 1) // SCALE


def standard_in_force(ctx: AuditContext, program: str) -> tuple[int, str] | None:
    """(fen per person per month, from_month) of ``program``'s standard in force in M — the row with
    the latest from_month <= M — or None. Two different amounts from one month make the standard
    ambiguous: the rule is then not run."""
    rows = ctx.table("standards").filter((pl.col("program") == program) & (pl.col("from_month") <= ctx.month))
    if rows.is_empty():
        return None
    since = str(rows["from_month"].max())
    amounts = rows.filter(pl.col("from_month") == since)["amount"].unique()
    if amounts.len() > 1:
        label = PROGRAM_LABELS.get(program, program)
        raise RuleNotRun(f"数据表 standards 中{label}自{since}起有{amounts.len()}个不同标准，无法确定"
                         f"（ambiguous {program} standard from {since}）")
    return int(amounts[0]), since


def active_with_members(rule: Rule, ctx: AuditContext, program: str) -> pl.DataFrame:
    """Active cases of ``program`` in M with ``monthly_amount`` and ``members`` (distinct member count).

    A case without a members row, or without a monthly_amount, cannot be compared with a per-person
    standard: it is skipped and counted (``Rule.skip``) for the run's input quality, never divided by zero.
    """
    cases = active_case_rows(ctx, ("case_id", "street", "program", "payee_id", "monthly_amount"),
                             pl.col("program") == program)  # the columns the S rules read, not shared
    members = ctx.scan("members").select("case_id", "person_id")  # from disk when streamed: not held

    def count(ids: pl.DataFrame) -> pl.DataFrame:  # the members of these cases (a part of them when many)
        return (members.join(ids.lazy(), on="case_id", how="semi")
                .group_by("case_id").agg(members=pl.col("person_id").n_unique()).collect(engine="streaming"))

    counts = in_parts(count, "case_id", cases.select("case_id"))
    cases = cases.join(counts, on="case_id", how="left")
    no_members = pl.col("members").is_null()
    rule.skip("cases_without_members", int(cases.select(no_members.sum()).item()))
    rule.skip("cases_without_monthly_amount",
              int(cases.select((~no_members & pl.col("monthly_amount").is_null()).sum()).item()))
    # one chunk: polars 2.x can panic formatting text over a filtered multi-chunk join result (city scale)
    return cases.filter(~no_members & pl.col("monthly_amount").is_not_null()).rechunk()
