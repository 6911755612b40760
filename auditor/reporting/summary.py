"""The run summary: a frozen record of one monthly audit, written as ``run.json`` by ``to_dict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from auditor.engine.runner import CheckStatus
from auditor.ingest.loader import TableStats


@dataclass(frozen=True)
class MoneyTotals:
    """Money of M in yuan text (exact): instructed, paid, matched, at risk (see ``jobs.monthly.money_totals``)."""

    instructed: str
    paid: str
    matched: str
    at_risk: str


@dataclass(frozen=True)
class FindingCounts:
    total: int
    by_rule: dict[str, int]
    by_severity: dict[str, int]


@dataclass(frozen=True)
class RunSummary:
    """What one run read, checked and found; ``run_id`` and ``durations`` are set once known."""

    month: str
    profile: str
    district: str
    data_dir: str
    started_at: str
    finished_at: str
    tables: dict[str, TableStats]
    quarantine_reasons: tuple[dict[str, Any], ...]
    checks: tuple[CheckStatus, ...]
    money: MoneyTotals
    findings: FindingCounts
    sample_size: int
    run_id: int | None = None
    durations: dict[str, float] = field(default_factory=dict)
    loaded_from_snapshot: int | None = None  # the run whose snapshot supplied the tables (files unchanged)

    @property
    def quarantined_rows(self) -> int:
        return sum(s.quarantined for s in self.tables.values())

    @property
    def not_run(self) -> tuple[CheckStatus, ...]:
        return tuple(s for s in self.checks if not s.ran)

    def finished(self, *, run_id: int, durations: dict[str, float]) -> RunSummary:
        return replace(self, run_id=run_id, durations=durations)

    def to_dict(self) -> dict[str, Any]:
        """The ``run.json`` layout (also stored with the run)."""
        out: dict[str, Any] = {
            "month": self.month, "profile": self.profile, "district": self.district,
            "data_dir": self.data_dir, "started_at": self.started_at,
            "tables": {name: asdict(s) for name, s in self.tables.items()},
            "quarantined_rows": self.quarantined_rows,
            "quarantine_reasons": list(self.quarantine_reasons),
            "checks": [asdict(s) for s in self.checks],
            "checks_run": [s.code for s in self.checks if s.ran],
            "checks_not_run": [{"code": s.code, "reason": s.reason} for s in self.not_run],
            "input_quality": {s.code: dict(s.skipped) for s in self.checks if s.skipped},
            "money": asdict(self.money),
            "findings": asdict(self.findings),
            "sample_size": self.sample_size,
            "finished_at": self.finished_at,
        }
        if self.run_id is not None:
            out["run_id"] = self.run_id
        if self.durations:
            out["durations"] = dict(self.durations)
        if self.loaded_from_snapshot is not None:
            out["loaded_from_snapshot"] = self.loaded_from_snapshot
        return out
