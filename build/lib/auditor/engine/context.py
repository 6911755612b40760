"""What a rule sees: the audit month, the profile, the loaded drop, shared frames."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from auditor.core.config import Profile
from auditor.core.periods import month_bounds
from auditor.ingest.loader import Drop


@dataclass
class AuditContext:
    month: str
    profile: Profile
    drop: Drop
    _cache: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def first_day(self) -> date:
        return month_bounds(self.month)[0]

    @property
    def last_day(self) -> date:
        return month_bounds(self.month)[1]

    def has(self, table: str) -> bool:
        return table in self.drop.tables

    def table(self, name: str) -> pl.DataFrame:
        return self.drop.tables[name]

    def shared(self, fn: Callable[[AuditContext], pl.DataFrame]) -> pl.DataFrame:
        """Compute a derived frame once (e.g. paid rows of M) and reuse it until ``release``."""
        key = f"{fn.__module__}.{fn.__qualname__}"
        if key not in self._cache:
            self._cache[key] = fn(self)
        return self._cache[key]

    def release(self) -> None:
        """Drop the shared frames (the engine does this between rule families to bound memory)."""
        self._cache.clear()
