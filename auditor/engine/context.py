"""What a rule sees: the audit month, the profile, the loaded drop, shared frames."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from auditor.core.config import Profile
from auditor.core.periods import month_bounds
from auditor.ingest.loader import Drop
from auditor.ingest.spill import SpilledTables

HOLD_ROWS = 25_000_000  # ``AuditContext.table``: columns of a bigger table on disk are not held
_KEPT: dict[str, frozenset[str]] = {}  # shared frames kept across rule families -> their families (see ``kept``)


def _key(fn: Callable[..., pl.DataFrame]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def kept(*families: str) -> Callable[[Callable[[AuditContext], pl.DataFrame]], Callable[[AuditContext], pl.DataFrame]]:
    """Mark a narrow shared frame that several families use to be computed once per run, not once
    per family: ``release`` keeps it while one of ``families`` is still to run, or, without families,
    for the whole run (e.g. for the run's money totals)."""
    def mark(fn: Callable[[AuditContext], pl.DataFrame]) -> Callable[[AuditContext], pl.DataFrame]:
        _KEPT[_key(fn)] = frozenset(families)
        return fn
    return mark


@dataclass
class AuditContext:
    month: str
    profile: Profile
    drop: Drop
    _cache: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)
    _tables: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def first_day(self) -> date:
        return month_bounds(self.month)[0]

    @property
    def last_day(self) -> date:
        return month_bounds(self.month)[1]

    def has(self, table: str) -> bool:
        return table in self.drop.tables

    def table(self, name: str, *columns: str) -> pl.DataFrame:
        """A loaded table, or only its ``columns``. From a table kept on disk (streamed) only the columns
        asked for are read, each once, and held until ``release``; from one of more than ``HOLD_ROWS``
        rows they are read on every call and not held (a rule family would hold gigabytes)."""
        if not self.on_disk(name):
            frame = self.drop.tables[name]
            return frame.select(columns) if columns else frame
        stats = self.drop.stats.get(name)
        if stats is not None and stats.accepted > HOLD_ROWS:
            return self.scan(name).select(list(columns) or pl.all()).collect()
        held = self._tables.get(name)
        wanted = list(columns) or self.scan(name).collect_schema().names()
        missing = [c for c in wanted if held is None or c not in held.columns]
        if missing:  # the parts are read in order: the new columns line up with the held ones
            more = self.scan(name).select(missing).collect()
            held = more if held is None else held.hstack(more)
            self._tables[name] = held
        assert held is not None
        return held.select(wanted)

    def on_disk(self, name: str) -> bool:
        """Whether table ``name`` is kept on disk (a streamed load): read it through ``scan``."""
        tables = self.drop.tables
        return isinstance(tables, SpilledTables) and tables.on_disk(name)

    def scan(self, name: str) -> pl.LazyFrame:
        """Table ``name`` as a lazy frame; from disk, filters and projections read only what they need."""
        tables = self.drop.tables
        return tables.scan(name) if isinstance(tables, SpilledTables) else tables[name].lazy()

    def shared(self, fn: Callable[[AuditContext], pl.DataFrame]) -> pl.DataFrame:
        """Compute a derived frame once (e.g. paid rows of M) and reuse it until ``release``."""
        key = _key(fn)
        if key not in self._cache:
            self._cache[key] = fn(self)
        return self._cache[key]

    def keep(self, fn: Callable[[AuditContext], pl.DataFrame], frame: pl.DataFrame) -> None:
        """Hold ``frame`` as ``fn``'s shared frame (unless one is held): a frame made as a by-product of
        another (e.g. the money totals of the reconciliation) is not computed again from scratch."""
        self._cache.setdefault(_key(fn), frame)

    def release(self, to_run: Collection[str] | None = None) -> None:
        """Drop the shared frames but the ``kept`` ones, and the tables read from disk (the engine does
        this between rule families to bound memory). Given the families still ``to_run``, a kept frame
        none of them uses is dropped too (national: the paid cases, 0.7 GiB, after the eligibility family)."""
        def keep(key: str) -> bool:
            return key in _KEPT and (to_run is None or not _KEPT[key] or not _KEPT[key].isdisjoint(to_run))
        self._cache = {k: v for k, v in self._cache.items() if keep(k)}
        self._tables.clear()
