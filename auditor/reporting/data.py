"""The monthly report: a frozen ``ReportData`` built from a run's findings and summary, rendering itself.

``build_report_data`` turns a run's findings and its ``RunSummary`` into plain
data; ``ReportData.render`` renders it through the one jinja2 environment
(templates in ``reports/``). Rendering cost depends on what is shown (top cases,
aggregates), not on the number of findings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import polars as pl

from auditor.core.money import fen_to_yuan
from auditor.core.periods import beijing_text
from auditor.core.vocab import SEVERITIES
from auditor.engine.runner import load_catalogue
from auditor.ingest.schema import TABLES
from auditor.reporting.env import environment
from auditor.reporting.issues_xlsx import DISTRICT_SHEET
from auditor.reporting.summary import RunSummary

TOP_CASES = 30


@dataclass(frozen=True)
class RuleRow:
    code: str
    name: str
    family: str
    severity: str
    count: int
    amount: str


@dataclass(frozen=True)
class StreetRow:
    street: str
    high: int
    medium: int
    low: int
    total: int
    amount: str


@dataclass(frozen=True)
class TopCase:
    finding_id: str
    rule: str
    rule_name: str
    severity: str
    street: str
    amount: str
    title: str
    paths: list[str]


@dataclass(frozen=True)
class TableRow:
    name: str
    label: str
    file: str
    read: int
    accepted: int
    quarantined: int
    missing_columns: str


@dataclass(frozen=True)
class ReportData:
    """Everything the monthly report shows, as plain data; ``render`` turns it into the page."""

    district: str
    month: str
    profile: str
    generated_at: str
    money: Mapping[str, str]
    total_findings: int
    total_amount: str
    by_severity: Mapping[str, int]
    by_rule: Sequence[RuleRow]
    by_street: Sequence[StreetRow]
    top: Sequence[TopCase]
    tables: Sequence[TableRow]
    quarantine_reasons: Sequence[Mapping[str, Any]]
    not_run: Sequence[Mapping[str, Any]]
    sample_size: int
    extra_sections: Sequence[Mapping[str, Any]] = ()

    def render(self, template: str = "monthly.html.j2") -> str:
        return environment().get_template(template).render(r=self)


def _paths(evidence: str) -> list[str]:
    """Readable relationship paths a rule put in its evidence (``paths``/``path``)."""
    try:
        data = json.loads(evidence)
    except (TypeError, ValueError):
        return []
    paths = data.get("paths") or ([data["path"]] if data.get("path") else [])
    return [p if isinstance(p, str) else " → ".join(map(str, p)) for p in paths][:5]


def build_report_data(frame: pl.DataFrame, summary: RunSummary, extra_sections: Sequence[Mapping[str, Any]] = (),
                      mask: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> ReportData:
    """The report of one run: ``frame`` holds its findings, masked for the report's readers or to be
    masked by ``mask``, which is applied to the findings the report lists (the rest shows as counts)."""
    catalogue = load_catalogue()
    names = {code: cls.name for code, cls in catalogue.items()}
    amount = pl.col("amount_fen").fill_null(0)

    per_rule = {r["rule"]: r for r in frame.group_by("rule").agg(
        n=pl.len(), fen=amount.sum()).iter_rows(named=True)}
    by_rule = [RuleRow(code, cls.name, cls.family, cls.severity, per_rule.get(code, {}).get("n", 0),
                       fen_to_yuan(per_rule.get(code, {}).get("fen", 0)))
               for code, cls in catalogue.items()]

    streets = (frame.with_columns(street=pl.col("street").fill_null(DISTRICT_SHEET))
               .group_by("street").agg(
                   *[(pl.col("severity") == s).sum().alias(s) for s in SEVERITIES],
                   total=pl.len(), fen=amount.sum())
               .sort(["total", "street"], descending=[True, False]))
    by_street = [StreetRow(r["street"], r["high"], r["medium"], r["low"], r["total"], fen_to_yuan(r["fen"]))
                 for r in streets.iter_rows(named=True)]

    rank = pl.col("severity").replace_strict({s: i for i, s in enumerate(SEVERITIES)}, return_dtype=pl.Int8)
    top_rows = frame.sort([rank, amount, "finding_id"], descending=[False, True, False]).head(TOP_CASES)
    top_rows = mask(top_rows) if mask else top_rows
    top = [TopCase(r["finding_id"], r["rule"], names.get(r["rule"], r["rule"]), r["severity"],
                   r["street"] or DISTRICT_SHEET, fen_to_yuan(r["amount_fen"]), r["title"], _paths(r["evidence"]))
           for r in top_rows.iter_rows(named=True)]

    tables = [TableRow(name, TABLES[name].label, t.file, t.read, t.accepted, t.quarantined,
                       ", ".join(t.missing_columns))
              for name, t in summary.tables.items()]
    return ReportData(
        district=summary.district, month=summary.month, profile=summary.profile,
        generated_at=beijing_text(datetime.fromisoformat(summary.finished_at)) + "（北京时间）",
        money=asdict(summary.money),
        total_findings=frame.height,
        total_amount=fen_to_yuan(int(frame["amount_fen"].fill_null(0).sum()) if frame.height else 0),
        by_severity={s: int((frame["severity"] == s).sum()) if frame.height else 0 for s in SEVERITIES},
        by_rule=by_rule, by_street=by_street, top=top, tables=tables,
        quarantine_reasons=summary.quarantine_reasons,
        not_run=[asdict(c) for c in summary.not_run],
        sample_size=summary.sample_size, extra_sections=tuple(extra_sections),
    )
