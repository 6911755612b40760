"""按季度开展信息共享核查: E01–E05 over the three months of a quarter.

The shared-information checks (deaths, public payroll, assets, imprisonment,
employment) run once per month of the quarter on one loaded drop; the result
is a CSV of every monthly finding and an HTML page (same jinja2 environment
as the monthly report) listing each clue once with the months it appeared in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from auditor.core.config import Profile
from auditor.core.masking import mask_frame
from auditor.core.money import fen_to_yuan
from auditor.core.periods import beijing_text, quarter_months
from auditor.core.private import private_dir, write_private_text
from auditor.engine.context import AuditContext
from auditor.engine.runner import load_catalogue, rules_in, run_rules
from auditor.ingest.loader import load_drop
from auditor.reporting.env import environment
from auditor.reporting.files import findings_csv_frame, write_csv

SHARED_TABLES = {"deaths", "public_payroll", "vehicles", "businesses", "real_estate", "penalties", "employment"}
HTML_ROWS = 500


@dataclass
class QuarterRule:
    code: str
    name: str
    counts: list[int]          # per month
    amounts: list[str]         # per month, yuan
    distinct: int              # distinct subjects over the quarter


@dataclass
class QuarterClue:
    rule: str
    rule_name: str
    street: str
    person_id: str
    months: str
    amount: str
    title: str


@dataclass
class QuarterlyData:
    district: str
    quarter: str
    months: list[str]
    generated_at: str
    rules: list[QuarterRule]
    clues: list[QuarterClue]
    total_clues: int
    not_run: list[dict] = field(default_factory=list)


@dataclass
class QuarterlyResult:
    out_dir: Path
    findings: pl.DataFrame
    data: QuarterlyData


def run_quarterly(*, quarter: str, data_dir: str | Path, out_dir: str | Path, profile: Profile,
                  masked: bool = True) -> QuarterlyResult:
    """The quarter's findings as ``quarterly.csv`` (the auditor's working file) and ``quarterly.html``
    (personal data masked unless ``masked`` is False)."""
    months = quarter_months(quarter)
    label = f"{months[0][:4]}Q{(int(months[0][5:]) + 2) // 3}"
    drop = load_drop(data_dir, profile, only=SHARED_TABLES)
    frames, not_run = [], []
    for month in months:
        frame, statuses = run_rules(AuditContext(month=month, profile=profile, drop=drop), list(rules_in("quarterly")))
        frames.append(frame)
        not_run += [{"month": month, "code": s.code, "name": s.name, "reason": s.reason}
                    for s in statuses if not s.ran]
    findings = pl.concat(frames).sort("month", "rule", "finding_id")
    data = _report_data(mask_frame(findings) if masked else findings, months, label, profile, not_run)
    out = private_dir(out_dir)
    write_csv(findings_csv_frame(findings), out / "quarterly.csv")
    html = environment().get_template("quarterly.html.j2").render(r=data)
    write_private_text(out / "quarterly.html", html)
    return QuarterlyResult(out, findings, data)


def _report_data(findings: pl.DataFrame, months: list[str], quarter: str, profile: Profile,
                 not_run: list[dict]) -> QuarterlyData:
    names = {code: cls.name for code, cls in load_catalogue().items() if "quarterly" in cls.groups}
    per = {(r["rule"], r["month"]): r for r in findings.group_by("rule", "month").agg(
        n=pl.len(), fen=pl.col("amount_fen").fill_null(0).sum()).iter_rows(named=True)}
    distinct = dict(findings.group_by("rule").agg(pl.col("finding_id").n_unique()).iter_rows())
    rules = [QuarterRule(code, names[code], [per.get((code, m), {}).get("n", 0) for m in months],
                         [fen_to_yuan(per.get((code, m), {}).get("fen", 0)) for m in months],
                         distinct.get(code, 0)) for code in names]
    # each clue once: the latest month's row (its amount covers the history up to that month)
    clues = (findings.sort("month").group_by("finding_id", maintain_order=True).agg(
        pl.col("rule").last(), pl.col("street").last(), pl.col("person_id").last(), pl.col("title").last(),
        pl.col("amount_fen").last(), months=pl.col("month").str.join("、"))
        .sort("rule", "street", "person_id", nulls_last=True))
    rows = [QuarterClue(r["rule"], names[r["rule"]], r["street"] or "", r["person_id"] or "", r["months"],
                        fen_to_yuan(r["amount_fen"]), r["title"])
            for r in clues.head(HTML_ROWS).iter_rows(named=True)]
    return QuarterlyData(district=profile.district, quarter=quarter, months=months,
                         generated_at=beijing_text(datetime.now(UTC)) + "（北京时间）",
                         rules=rules, clues=rows, total_clues=clues.height, not_run=not_run)
