"""Columnar planting for the benchmark generator (``benchmarks/generate.py``).

A rule's ``bench`` hook (``checks/<family>/<CODE>_plant.py``) receives a
``ColumnarPlanting``: the ``k`` cases drawn for its code and polars helpers. It
does not touch the generator's frames itself; it *declares* changes (``edit``
rows matching a condition, ``drop`` them, ``duplicate`` them, ``add`` rows to a
table) which the generator applies frame by frame with vectorised expressions.
Frames: ``pay`` (payment rows before they split into instructions and ledger),
``instructions``, ``ledger``, ``allocations``, ``cases``, ``members``,
``accounts`` and every other contract table (``deaths``, ``relations``, …).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from auditor.core.money import yuan

EPOCH = date(1970, 1, 1)


def day_of(mi: int, day: int) -> int:
    """Days since 1970-01-01 of ``day`` in month index ``mi``."""
    return (date(mi // 12, mi % 12 + 1, day) - EPOCH).days


def as_date(days: npt.ArrayLike) -> pl.Series:
    """Days since 1970-01-01 (negative = null) -> Date series."""
    s = pl.Series(np.asarray(days, dtype=np.int64))
    return pl.select(pl.when(s >= 0).then(s.cast(pl.Int32).cast(pl.Date))).to_series()


def money(fen: pl.Expr) -> pl.Expr:
    """Integer fen -> exact Decimal(14, 2) yuan."""
    return yuan(fen).cast(pl.Decimal(14, 2))


def seq_text(prefix: str, start: int, n: int, width: int) -> pl.Series:
    """``prefix`` + zero-padded numbers start .. start+n-1."""
    return pl.select(pl.concat_str(pl.lit(prefix), pl.int_range(start, start + n, dtype=pl.Int64)
                                   .cast(pl.String).str.zfill(width))).to_series()


class ColumnarPlanting:
    """What a ``bench`` hook sees and the changes it declares; ``code`` is the hook's rule."""

    # gen: the benchmark generator (benchmarks.generate.Generator, outside the auditor package)
    def __init__(self, gen: Any, pool: pl.DataFrame, chosen: pl.DataFrame, codes: list[str], k: int) -> None:
        self.gen, self.pool, self.chosen, self.k = gen, pool, chosen, k
        self.groups = {c: chosen.slice(j * k, k) for j, c in enumerate(codes)}
        self.extra = chosen.slice(len(codes) * k, k)  # k more planted-pool cases a hook may pair with its own
        self.mi, self.first = gen.mi, gen.first
        self.in_m = pl.col("mi") == gen.mi
        self.code = ""
        self._changes: dict[str, list[tuple[str, pl.Expr, dict]]] = {}
        self._applied: set[str] = set()

    # ------------------------------------------------------------- what a hook reads
    def group(self, code: str | None = None) -> pl.DataFrame:
        """The cases drawn for ``code`` (default: the hook's own rule)."""
        return self.groups[code or self.code]

    def regroup(self, cases: pl.DataFrame) -> None:
        """Replace the hook's own cases (e.g. cases of one street)."""
        self.groups[self.code] = cases

    def of(self, code: str | None = None) -> pl.Expr:
        """Rows of the hook's cases (a frame with ``case_id``)."""
        return pl.col("case_id").is_in(self.group(code)["case_id"].implode())

    def key_in(self, *cols: str) -> pl.Expr:
        """Rows whose ``cols`` values are those of one of the hook's cases."""
        keys = self.group().select(pl.struct(list(cols))).to_series().implode()
        return pl.struct(list(cols)).is_in(keys)

    def one_per_street(self, offset: int, every: int) -> pl.DataFrame:
        """One pool case per street for up to k streets, taking every ``every``-th street (sorted) from
        ``offset``: hooks that edit whole streets with different offsets never meet in one street."""
        streets = self.pool["street"].unique().sort().gather_every(every, offset=offset)
        return (self.pool.filter(pl.col("street").is_in(streets.implode()))
                .unique("street", keep="first", maintain_order=True).head(self.k))

    def members_of(self, code: str | None = None) -> pl.DataFrame:
        """The hook's cases with their second member (``member``, ``member_name``)."""
        first_member = (self.gen.members_frame.filter(pl.col("pos") == 1)
                        .select("case_id", member="person_id", member_name="name"))
        return self.group(code).join(first_member, on="case_id", maintain_order="left")

    def day(self, offset: int, n: int | None = None) -> pl.Series:
        """``n`` (default k) dates ``offset`` days from the first day of M."""
        return as_date(np.full(self.k if n is None else n, self.first + offset))

    def people(self, n: int) -> pl.Series:
        return self.gen.people(n)

    def names(self, n: int) -> pl.Series:
        return self.gen.names(n)

    @property
    def staff(self) -> pl.DataFrame:
        return self.gen.tables["staff"]

    def street_staff(self, role: str) -> pl.DataFrame:
        """Per street: the first staff member of ``role`` (``staff_pid``, ``staff_phone``)."""
        return self.staff.filter(pl.col("role") == role).group_by("street").agg(
            staff_pid=pl.col("person_id").first(), staff_phone=pl.col("phone").first())

    # ------------------------------------------------------------- what a hook declares
    def edit(self, frame: str, when: pl.Expr, **columns: pl.Expr) -> None:
        """Set ``columns`` on the rows of ``frame`` matching ``when``."""
        self._changes.setdefault(frame, []).append(("edit", when, columns))

    def drop(self, frame: str, when: pl.Expr) -> None:
        """Remove the rows of ``frame`` matching ``when``."""
        self._changes.setdefault(frame, []).append(("drop", when, {}))

    def duplicate(self, frame: str, when: pl.Expr, **columns: pl.Expr) -> None:
        """Append copies of the rows matching ``when`` with ``columns`` changed (after the frame's edits)."""
        self._changes.setdefault(frame, []).append(("duplicate", when, columns))

    def add(self, frame: str, rows: pl.DataFrame) -> None:
        """Append ``rows`` to ``frame`` (columns it lacks are null)."""
        self._changes.setdefault(frame, []).append(("add", pl.lit(True), {"rows": rows}))

    # ------------------------------------------------------------- the generator applies them
    def apply(self, frame: str, data: pl.DataFrame, *, duplicates: bool = True) -> pl.DataFrame:
        """``data`` with the declared adds, edits and drops of ``frame`` (and duplicates unless told not to)."""
        self._applied.add(frame)
        changes = self._changes.get(frame, [])
        adds = [c["rows"] for kind, _, c in changes if kind == "add"]
        if adds:
            data = pl.concat([data, *adds], how="diagonal_relaxed").select(data.columns)
        for kind, when, columns in changes:
            if kind == "edit":
                data = data.with_columns(**{c: pl.when(when).then(v).otherwise(pl.col(c)) for c, v in columns.items()})
            elif kind == "drop":
                data = data.filter(~when)
        if duplicates:
            data = pl.concat([data, *self.duplicates(frame, data)])
        return data

    def duplicates(self, frame: str, data: pl.DataFrame) -> list[pl.DataFrame]:
        """The copies the hooks asked for, taken from ``data``."""
        return [data.filter(when).with_columns(**columns)
                for kind, when, columns in self._changes.get(frame, []) if kind == "duplicate"]

    def unapplied(self) -> list[str]:
        """Frames with declared changes the generator never applied (a hook named an unknown frame)."""
        return sorted(set(self._changes) - self._applied)


def relation_rows(frame: pl.DataFrame, relation: str) -> pl.DataFrame:
    """``relations`` rows: ``staff_pid`` has ``member`` as ``relation`` (户籍)."""
    return frame.select(person_id="staff_pid", relative_id="member", relation=pl.lit(relation), source=pl.lit("户籍"))


def dishonesty_rows(frame: pl.DataFrame, *, recovered_fen: int, reported: bool) -> pl.DataFrame:
    """``dishonesty`` rows of 5,000.00 defrauded from (record_id, person_id, name, recorded_on)."""
    return frame.select(
        "record_id", "person_id", "name", reason=pl.lit("虚报收入骗取低保"), recorded_on="recorded_on",
        restricted_until=pl.lit(None, pl.Date), amount_defrauded=money(pl.lit(500000)),
        amount_recovered=money(pl.lit(recovered_fen)),
        reported_on=(pl.col("recorded_on") + pl.duration(days=5)) if reported else pl.lit(None, pl.Date),
        unit=pl.lit("区民政局"))
