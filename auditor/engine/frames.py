"""Frames many rules share, computed once per run through ``ctx.shared``.

Definitions follow ``rules.md``: *paid* is a ledger row with status ``paid``
and month M; an *instruction* is a payments row with month M; a *case paid for
M* is matched by ``case_id`` where the ledger carries it, else by
(payee_id, program), preferring the case active in M.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from auditor.core.money import yuan
from auditor.core.repeats import may_repeat
from auditor.core.vocab import PROGRAM_LABELS
from auditor.engine.context import AuditContext, kept


def program_label(e: pl.Expr) -> pl.Expr:
    """Program code -> Chinese label (e.g. dibao -> 低保)."""
    return e.replace_strict(PROGRAM_LABELS, default=e, return_dtype=pl.String)


def rows_where(frame: pl.DataFrame, condition: pl.Expr) -> pl.DataFrame:
    """``frame.filter(condition)``, without copying when the rows form one block.

    Exports are usually sorted by month, so a month's rows are often contiguous;
    a zero-copy slice then saves a copy of millions of rows.
    """
    mask = frame.select(condition.fill_null(False)).to_series()
    n = int(mask.sum())
    if n == 0:
        return frame.clear()
    first = int(mask.arg_max())  # type: ignore[arg-type]
    return frame.slice(first, n) if mask.slice(first, n).all() else frame.filter(mask)


def table_rows(ctx: AuditContext, name: str, condition: pl.Expr, columns: tuple[str, ...] = ()) -> pl.DataFrame:
    """Rows of table ``name`` meeting ``condition`` (only ``columns``, when given): a slice or filter of
    the loaded table, or, when it is kept on disk (streamed), only those rows and columns read from disk
    by polars' streaming engine (the table is never held whole)."""
    if ctx.on_disk(name):
        scan = ctx.scan(name).filter(condition.fill_null(False))
        return (scan.select(columns) if columns else scan).collect(engine="streaming")
    rows = rows_where(ctx.table(name), condition)
    return rows.select(columns) if columns else rows


PART_ROWS = 4_000_000  # ``in_parts``: frames of more rows are worked on a part at a time
PARTS = 4


def in_parts(fn: Callable[..., pl.DataFrame], column: str, *frames: pl.DataFrame) -> pl.DataFrame:
    """``fn(*frames)``, or, when a frame has more than ``PART_ROWS`` rows, the concatenation of ``fn``
    over ``PARTS`` parts of the frames split alike by a hash of ``column`` (text in every frame).

    For ``fn`` whose joins match rows on ``column`` only within a part: the same rows (in another order),
    for a fraction of the joins' hash tables and key encodings (national scale: C02's join of the
    month's 28 M paid accounts with 30 M account holders, 14.5 -> 10.8 GiB peak).
    """
    if max(f.height for f in frames) <= PART_ROWS:
        return fn(*frames)
    parts = [f.get_column(column).cast(pl.String).hash() % PARTS for f in frames]
    return pl.concat([fn(*(f.filter(h == p) for f, h in zip(frames, parts, strict=True))) for p in range(PARTS)])


def instructions(ctx: AuditContext) -> pl.DataFrame:
    """Payment instructions of month M."""
    return table_rows(ctx, "payments", pl.col("month") == ctx.month)


PAID_ROW_COLUMNS = ("txn_id", "case_id", "payee_id", "program", "amount", "bank_account", "paid_on", "street")


def paid_rows(ctx: AuditContext) -> pl.DataFrame:
    """Paid ledger rows of month M (the money that actually left): ``PAID_ROW_COLUMNS``, without month
    and status, the same on every row (held for a family: 30 M rows at national scale)."""
    return table_rows(ctx, "ledger", (pl.col("month") == ctx.month) & (pl.col("status") == "paid"),
                      PAID_ROW_COLUMNS)


ACTIVE_CASE_COLUMNS = ("case_id", "program", "payee_id", "street", "community", "approved_by", "handled_by",
                       "approved_on", "review_cycle", "last_reviewed_on", "monthly_amount")


def active_cases(ctx: AuditContext) -> pl.DataFrame:
    """Cases active in M: status active (or suspended/terminated with end_month >= M), started by M.

    Only the columns the users of this frame read (``ACTIVE_CASE_COLUMNS``) are copied (read from disk
    when streamed, without holding the table).
    """
    return active_case_rows(ctx, ACTIVE_CASE_COLUMNS)


def active_case_rows(ctx: AuditContext, columns: tuple[str, ...], where: pl.Expr | None = None) -> pl.DataFrame:
    """``columns`` of the cases active in M (and meeting ``where``), read for one use and not shared: a user
    of a few columns or of one program does not hold ``active_cases`` (national: 28 M cases, 3 GiB)."""
    active = _is_active(ctx.month)
    return table_rows(ctx, "cases", active if where is None else active & where, columns)


def _is_active(m: str | pl.Expr) -> pl.Expr:
    return (((pl.col("status") == "active")
             | (pl.col("status").is_in(["suspended", "terminated"]) & (pl.col("end_month") >= m)))
            & (pl.col("start_month") <= m))


PAID_COLUMNS = ("txn_id", "payee_id", "program", "amount", "bank_account", "street", "case_id")


def _with_case(ctx: AuditContext, paid: pl.DataFrame) -> pl.DataFrame:
    """``paid`` (rows of ``PAID_COLUMNS``, or of some of them with payee_id, program and case_id) with
    ``case_id`` set to the case each row pays for (null when no case matches).

    A row without a known ``case_id`` takes the case of its (payee_id, program):
    the one active in M, else the smallest case id. That choice is made once per
    key, not per row, so no ledger-sized sort is needed.
    """
    cases = _cases_of(ctx, paid)
    known = paid.select(pl.col("case_id").is_in(_present(cases["case_id"], paid["case_id"]).implode())
                        .fill_null(False)).to_series()
    direct = paid.filter(known)  # one pass over the keys instead of a semi and an anti join
    rest = paid.filter(~known).drop("case_id")  # incl. null case_id
    candidates = cases.join(rest.select("payee_id", "program").unique(), on=["payee_id", "program"], how="semi")
    several = may_repeat(candidates, ["payee_id", "program"])  # most keys have one case: no sort for those
    best = pl.concat([
        candidates.filter(~several).select("payee_id", "program", "case_id"),
        candidates.filter(several).with_columns(_active=_is_active(ctx.month))
        .sort(["payee_id", "program", "_active", "case_id"], descending=[False, False, True, False], nulls_last=True)
        .unique(["payee_id", "program"], keep="first", maintain_order=True)
        .select("payee_id", "program", "case_id")])
    return pl.concat([direct, rest.join(best, on=["payee_id", "program"], how="left").select(direct.columns)])


CASE_KEYS = ("case_id", "payee_id", "program", "status", "start_month", "end_month")


def _cases_of(ctx: AuditContext, paid: pl.DataFrame) -> pl.DataFrame:
    """``CASE_KEYS`` of the cases ``paid`` rows may be matched to: every case, or, for a few rows (those behind
    some findings), the cases of their case ids and payees, read by key (national: not 30 M cases a call)."""
    stats = ctx.drop.stats.get("cases")
    if stats is None or paid.height * 8 >= stats.accepted:
        return ctx.table("cases", *CASE_KEYS)
    return table_rows(ctx, "cases", pl.col("case_id").is_in(paid["case_id"].drop_nulls().unique().implode())
                      | pl.col("payee_id").is_in(paid["payee_id"].drop_nulls().unique().implode()), CASE_KEYS)


def _present(ids: pl.Series, wanted: pl.Series) -> pl.Series:
    """The ``ids`` (e.g. every case id) that ``wanted`` holds, to test ``wanted`` against: for a few wanted
    ids, the set built is of those few (probed by every id) instead of one of every id for each call."""
    few = wanted.drop_nulls().unique()
    return ids.filter(ids.is_in(few.implode())) if few.len() * 8 < ids.len() else ids


@kept("dishonesty", "eligibility")
def paid_cases(ctx: AuditContext) -> pl.DataFrame:
    """One row per case paid for M: case_id, paid_fen (two narrow columns: kept for every family)."""
    paid = ctx.shared(paid_rows).select("payee_id", "program", "amount", "case_id")  # what it needs: no copies
    paid = _with_case(ctx, paid).filter(pl.col("case_id").is_not_null())
    return per_key(paid, ["case_id"], one=dict(paid_fen=pl.col("amount").fill_null(0)),
                   many=dict(paid_fen=pl.col("amount").sum()))


def paid_rows_for(ctx: AuditContext, frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Paid rows of M, with the case each pays for, whose ``key`` (``case_id`` or columns of the
    paid rows such as payee_id, bank_account) is in ``frame``: the few rows behind some findings."""
    paid = ctx.shared(paid_rows).select(PAID_COLUMNS)
    keys = frame.select(key).unique()
    if key == ["case_id"]:  # rows naming the case, and rows of its payee and program that may match it
        owners = (ctx.table("cases", "case_id", "payee_id", "program").join(keys, on="case_id", how="semi")
                  .select("payee_id", "program").unique())
        paid = pl.concat([paid.join(keys, on="case_id", how="semi"),
                          paid.join(owners, on=["payee_id", "program"], how="semi")]).unique("txn_id")
        return _with_case(ctx, paid).join(keys, on="case_id", how="semi")
    return _with_case(ctx, paid.join(keys, on=key, how="semi"))


def with_txn_ids(ctx: AuditContext, frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Add ``txn_ids`` (sorted paid txn ids of M) to a few rows, by ``key`` (see ``paid_rows_for``)."""
    txns = paid_rows_for(ctx, frame, key).group_by(key).agg(txn_ids=pl.col("txn_id").sort())
    return frame.join(txns, on=key, how="left").with_columns(pl.col("txn_ids").fill_null([]))


def paid_members_of(ctx: AuditContext, people: pl.DataFrame) -> pl.DataFrame:
    """Members of cases paid for M among ``people`` (a frame with ``person_id``), case fields and
    paid_fen joined; one row per (member, case). Only those members' and cases' rows are read (from
    disk when streamed): the tables are not held."""
    members = table_rows(ctx, "members", pl.col("person_id").is_in(people["person_id"].unique().implode()),
                         ("case_id", "person_id", "name")).join(ctx.shared(paid_cases), on="case_id", how="inner")
    case_columns = ("case_id", "program", "street", "community", "payee_id", "status", "end_month", "phase_out_start")
    cases = table_rows(ctx, "cases", pl.col("case_id").is_in(members["case_id"].unique().implode()), case_columns)
    return (members.join(cases, on="case_id", how="inner")
            .select("case_id", "paid_fen", *case_columns[1:], "person_id", "name"))


def per_key(rows: pl.DataFrame, key: list[str], one: dict[str, pl.Expr], many: dict[str, pl.Expr]) -> pl.DataFrame:
    """Group ``rows`` by ``key`` with the aggregations ``many``.

    Most keys have a single row; for those ``one`` gives the same values
    without grouping, which is much faster.
    """
    used = {c for e in [*one.values(), *many.values()] for c in e.meta.root_names()} - set(key)
    rows = rows.select(*key, *sorted(used))  # filter only the columns needed (memory)
    single = ~may_repeat(rows, key)  # a rare single key taken as repeated is grouped: the same values
    solo = rows.filter(single).select(*key, **one)
    grouped = rows.filter(~single).group_by(key).agg(**many)
    return pl.concat([solo, grouped.select(solo.columns).cast(solo.schema)])


def reconciliation(ctx: AuditContext) -> pl.DataFrame:
    """One row per key (payee_id, program) of M that does not reconcile cleanly: instructed vs paid, with
    the rows as evidence.

    Columns: payee_id (= person_id), program, street, case_id, n_instr,
    instructed_fen, n_paid, paid_fen and the evidence lists (``instructions``,
    ``instr_accounts``, ``paid``, ``not_paid``). A clean key (exactly one
    instruction and one paid row, same amount, same account, no returned/failed
    row) is left out: the R rules only report unclean keys, and holding millions
    of clean ones would cost gigabytes (national: 28 M keys, 3 GiB); the money
    totals take their sums from ``money_sums``. Above ``PART_ROWS`` rows it is
    worked in parts by payee (``in_parts``: a key's rows are all in one part).
    """
    unpaid_rows = table_rows(ctx, "ledger", (pl.col("month") == ctx.month) & (pl.col("status") != "paid"))
    instr, paid = ctx.shared(instructions), ctx.shared(paid_rows)
    # one chunk (few rows): polars can panic building a struct over list columns of parts whose categorical
    # fields differ in their metadata (parts forced small, a part without returned rows)
    keys = in_parts(_reconcile, "payee_id", instr, paid, unpaid_rows).rechunk()
    ctx.keep(key_totals, keys.select(KEY_TOTALS))
    ctx.keep(money_sums, _money_sums(instr, paid, keys))
    return keys


def _reconcile(instr_rows: pl.DataFrame, paid_rows_: pl.DataFrame, unpaid_rows: pl.DataFrame) -> pl.DataFrame:
    """``reconciliation`` of these instruction, paid and other ledger rows (whole keys)."""
    key = ["payee_id", "program"]
    instr = per_key(instr_rows, key, one=dict(
        n_instr=pl.lit(1, pl.UInt32), instructed_fen=pl.col("amount").fill_null(0),
        instr_street=pl.col("street"), instr_case=pl.col("case_id"), _instr_account=pl.col("bank_account"),
    ), many=dict(
        n_instr=pl.len(), instructed_fen=pl.col("amount").sum(),
        instr_street=pl.col("street").sort().first(), instr_case=pl.col("case_id").sort().first(),
        _instr_account=pl.col("bank_account").first(),
    ))
    paid = per_key(paid_rows_, key, one=dict(
        n_paid=pl.lit(1, pl.UInt32), paid_fen=pl.col("amount").fill_null(0), paid_street=pl.col("street"),
        paid_case=pl.col("case_id"), _paid_account=pl.col("bank_account"),
    ), many=dict(
        n_paid=pl.len(), paid_fen=pl.col("amount").sum(), paid_street=pl.col("street").sort().first(),
        paid_case=pl.col("case_id").sort().first(), _paid_account=pl.col("bank_account").first(),
    ))
    keys = instr.join(paid, on=key, how="full", coalesce=True).with_columns(
        n_instr=pl.col("n_instr").fill_null(0),
        n_paid=pl.col("n_paid").fill_null(0),
        instructed_fen=pl.col("instructed_fen").fill_null(0),
        paid_fen=pl.col("paid_fen").fill_null(0),
    )
    clean = ((pl.col("n_instr") == 1) & (pl.col("n_paid") == 1) & (pl.col("instructed_fen") == pl.col("paid_fen"))
             & (pl.col("_instr_account") == pl.col("_paid_account")).fill_null(False))
    unclean = pl.concat([keys.filter(~clean).select(key), unpaid_rows.select(key)]).unique()
    evidence = (
        instr_rows.join(unclean, on=key, how="semi").group_by(key).agg(
            instr_accounts=pl.col("bank_account").unique().sort(),
            instructions=pl.struct("payment_id", "case_id", yuan(pl.col("amount")).alias("amount"),
                                   "bank_account").sort_by("payment_id"))
        .join(paid_rows_.join(unclean, on=key, how="semi").group_by(key).agg(
            paid=pl.struct("txn_id", yuan(pl.col("amount")).alias("amount"), "bank_account",
                           "paid_on").sort_by("paid_on", "txn_id")), on=key, how="full", coalesce=True)
        .join(unpaid_rows.group_by(key).agg(
            not_paid=pl.struct("txn_id", yuan(pl.col("amount")).alias("amount"), "bank_account", "status",
                               "paid_on").sort_by("txn_id")), on=key, how="full", coalesce=True)
    )
    keys = keys.with_columns(
        street=pl.coalesce("instr_street", "paid_street"),
        case_id=pl.coalesce("instr_case", "paid_case"),
        person_id=pl.col("payee_id"),
    ).drop("_instr_account", "_paid_account", "instr_street", "paid_street", "instr_case", "paid_case")
    return keys.join(evidence, on=key, how="inner")  # the keys with evidence: those not clean


KEY_TOTALS = ("person_id", "program", "instructed_fen", "paid_fen", "n_paid")


@kept()
def key_totals(ctx: AuditContext) -> pl.DataFrame:
    """Per key (payee_id, program) of M that does not reconcile cleanly: ``KEY_TOTALS`` of
    ``reconciliation``, kept for the run's money totals with ``money_sums``. ``reconciliation`` leaves
    both behind as it runs, so once the R rules ran they cost nothing; it is never computed twice."""
    return ctx.shared(reconciliation).select(KEY_TOTALS)


@kept()
def money_sums(ctx: AuditContext) -> pl.DataFrame:
    """One row: instructed_fen and paid_fen of M, and clean_paid_fen, the paid total of the keys that
    reconcile cleanly (those ``reconciliation`` leaves out)."""
    return _money_sums(ctx.shared(instructions), ctx.shared(paid_rows), ctx.shared(reconciliation))


def _money_sums(instr: pl.DataFrame, paid: pl.DataFrame, unclean: pl.DataFrame) -> pl.DataFrame:
    # every paid row is in one key's paid_fen: the clean keys have what the unclean ones have not
    return pl.concat([instr.select(instructed_fen=pl.col("amount").sum()), paid.select(paid_fen=pl.col("amount").sum()),
                      unclean.select(unclean_fen=pl.col("paid_fen").sum())], how="horizontal").select(
        "instructed_fen", "paid_fen", clean_paid_fen=pl.col("paid_fen") - pl.col("unclean_fen"))


def paid_of_keys(ctx: AuditContext, keys: pl.DataFrame) -> int:
    """Paid total of M (fen) of the keys (person_id, program as text) of ``keys``: their rows read by payee."""
    rows = table_rows(ctx, "ledger", (pl.col("month") == ctx.month) & (pl.col("status") == "paid")
                      & pl.col("payee_id").is_in(keys["person_id"].implode()), ("payee_id", "program", "amount"))
    return int(rows.with_columns(pl.col("program").cast(pl.String))
               .join(keys.select(pl.col("person_id").alias("payee_id"), "program"), on=["payee_id", "program"],
                     how="semi")["amount"].sum() or 0)


def street_program_paid(ctx: AuditContext) -> pl.DataFrame:
    """Paid total of M per (street, program), from the ledger's street."""
    return ctx.shared(paid_rows).group_by("street", "program").agg(
        paid_fen=pl.col("amount").sum(), n_paid=pl.len())


def paid_history_with_case(ctx: AuditContext, case_ids: pl.Series) -> pl.DataFrame:
    """Paid ledger rows of every month up to and including M for ``case_ids``, with their case.

    Matched like ``paid_cases`` but preferring the case active in the
    row's own benefit month; used to total money paid for months not due.
    Only the ledger rows of those cases' payees and programs are matched, so
    the cost follows the number of findings, not the ledger's history.
    """
    wanted = table_rows(ctx, "cases", pl.col("case_id").is_in(case_ids.unique().implode()), ("payee_id", "program"))
    columns = ("txn_id", "payee_id", "program", "case_id", "month", "amount", "status")
    # A one-column test first (from disk, applied as the payee column is read: the other columns are read
    # only for these payees' rows); the two-column join then sees only these payees' rows.
    payees = pl.col("payee_id").is_in(wanted["payee_id"].unique().implode())
    paid = (ctx.scan("ledger").select(columns).filter(payees)
            .join(wanted.unique().lazy(), on=["payee_id", "program"], how="semi")
            .filter((pl.col("status") == "paid") & (pl.col("month") <= ctx.month)).collect())
    all_cases = _cases_of(ctx, paid)  # those of the rows' case ids and payees: all a row can be matched to
    cases = all_cases.join(wanted.unique(), on=["payee_id", "program"], how="semi")
    known = all_cases.select("case_id").join(paid.select("case_id").drop_nulls().unique(), on="case_id", how="semi")
    direct = paid.join(known, on="case_id", how="semi")
    ranked = (
        paid.join(known, on="case_id", how="anti").drop("case_id")
        .join(cases, on=["payee_id", "program"], how="left")
        .with_columns(_active=_is_active(pl.col("month")).fill_null(False))
        .sort(["txn_id", "_active", "case_id"], descending=[False, True, False], nulls_last=True)
        .unique("txn_id", keep="first", maintain_order=True)
    )
    return pl.concat([direct.select("txn_id", "case_id", "month", "amount"),
                      ranked.select("txn_id", "case_id", "month", "amount")]).filter(pl.col("case_id").is_not_null())
