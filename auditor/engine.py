"""The rule engine: a registry of rules keyed by code, and the loop that runs them.

A rule is a class in its own module under ``checks/<family>/<CODE>.py``,
registered with ``@register``. It declares its metadata once (code, name,
severity, subject, the tables/columns it needs, the profile parameters it
reads) and implements ``find(ctx)``, returning one row per finding as a polars
frame holding its subject columns, any other finding columns it knows,
``amount_fen``, ``title`` and ``evidence`` (a JSON string).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import pkgutil
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from auditor.context import AuditContext

log = logging.getLogger("auditor")

SEVERITIES = ("high", "medium", "low")
# Columns a finding may carry besides the fixed ones (rule, severity, month, ...).
SUBJECT_COLUMNS = ("street", "program", "person_id", "case_id", "staff_id",
                   "bank_account", "application_id", "record_id")
FINDING_COLUMNS = ("finding_id", "rule", "severity", "month", *SUBJECT_COLUMNS,
                   "amount_fen", "title", "evidence")


class RuleNotRun(Exception):
    """Raised by a rule that cannot run on this drop; the message is the reason."""


class Rule(ABC):
    """Base class of every check. Subclasses set the class attributes below and implement ``find``."""

    code: ClassVar[str]
    name: ClassVar[str]                      # Chinese name, e.g. 无指令支付
    severity: ClassVar[str]
    subject: ClassVar[tuple[str, ...]]       # finding columns that identify one finding
    needs: ClassVar[dict[str, tuple[str, ...]]] = {}  # table -> columns it reads
    params: ClassVar[tuple[str, ...]] = ()   # Profile fields it reads
    stable_facts: ClassVar[tuple[str, ...]]  # finding columns / evidence keys whose change is a new situation
    family: ClassVar[str] = ""

    @abstractmethod
    def find(self, ctx: AuditContext) -> pl.DataFrame:
        """One row per finding: subject columns, other finding columns, amount_fen, title, evidence."""

    def missing_input(self, ctx: AuditContext) -> str | None:
        """Why this rule cannot run on ``ctx``'s drop, or None."""
        for table, columns in self.needs.items():
            if not ctx.has(table):
                return f"缺少数据表 {table}（table {table} not in drop）"
            absent = [c for c in columns if c in ctx.drop.stats[table].missing_columns]
            if absent:
                return f"数据表 {table} 缺少列 {', '.join(absent)}（columns missing）"
        return None


REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to the registry, refusing duplicate codes."""
    code = cls.code
    if code in REGISTRY and REGISTRY[code] is not cls:
        raise ValueError(f"duplicate rule code {code}: {REGISTRY[code].__module__} and {cls.__module__}")
    if cls.severity not in SEVERITIES:
        raise ValueError(f"{code}: severity {cls.severity!r} not in {SEVERITIES}")
    unknown = [s for s in cls.subject if s not in SUBJECT_COLUMNS]
    if unknown or not cls.subject:
        raise ValueError(f"{code}: bad subject {cls.subject}")
    if not (cls.__doc__ or "").strip():
        raise ValueError(f"{code}: a rule needs a docstring that says why it exists")
    facts = getattr(cls, "stable_facts", None)
    if not isinstance(facts, tuple) or not facts or not all(isinstance(f, str) and f for f in facts):
        raise ValueError(f"{code}: stable_facts must be a non-empty tuple of finding columns or evidence keys")
    cls.family = cls.__module__.split(".")[-2] if cls.__module__.count(".") >= 2 else ""
    REGISTRY[code] = cls
    return cls


def load_catalogue() -> dict[str, type[Rule]]:
    """Import every module under ``checks/`` so that its rule registers itself."""
    import checks

    for info in pkgutil.walk_packages(checks.__path__, prefix="checks."):
        importlib.import_module(info.name)
    return dict(sorted(REGISTRY.items()))


def finding_id(rule: str, subject_values: list[str | None]) -> str:
    """Stable id for (rule, subject): the same across reruns and months."""
    digest = hashlib.sha1("|".join([rule, *(v or "" for v in subject_values)]).encode()).hexdigest()
    return f"{rule}-{digest[:12].upper()}"


@dataclass
class CheckStatus:
    code: str
    name: str
    family: str
    ran: bool
    reason: str = ""
    findings: int = 0
    seconds: float = 0.0


def empty_findings() -> pl.DataFrame:
    schema = {c: pl.String for c in FINDING_COLUMNS} | {"amount_fen": pl.Int64}
    return pl.DataFrame(schema=schema)


def _complete(rule: Rule, frame: pl.DataFrame, month: str) -> pl.DataFrame:
    """Give a rule's output the full finding shape, with ids, and check its subject."""
    missing = [c for c in rule.subject if c not in frame.columns]
    if missing:
        raise ValueError(f"{rule.code} returned no subject column {missing}")
    if frame.height and frame.select(pl.any_horizontal(pl.col(list(rule.subject)).is_null())).to_series().any():
        raise ValueError(f"{rule.code} returned a finding with an empty subject column")
    if frame.select(pl.struct(list(rule.subject)).is_duplicated().any()).item():
        raise ValueError(f"{rule.code} returned two findings with one subject")
    cols = []
    for c in FINDING_COLUMNS:
        if c in ("finding_id", "rule", "severity", "month"):
            continue
        dtype = pl.Int64 if c == "amount_fen" else pl.String
        cols.append(pl.col(c).cast(dtype) if c in frame.columns else pl.lit(None, dtype).alias(c))
    _check_facts(rule, frame)
    out = frame.select(cols)
    ids = [finding_id(rule.code, list(row)) for row in out.select(rule.subject).iter_rows()]
    return out.with_columns(
        finding_id=pl.Series(ids, dtype=pl.String),
        rule=pl.lit(rule.code),
        severity=pl.lit(rule.severity),
        month=pl.lit(month),
    ).select(FINDING_COLUMNS)


def _check_facts(rule: Rule, frame: pl.DataFrame) -> None:
    """Every declared stable fact is a finding column of the rule's output or a key of its evidence."""
    keys: set[str] = set()
    if frame.height and "evidence" in frame.columns:
        first = json.loads(frame["evidence"][0])  # struct-encoded: every row has the same keys
        keys = set(first) if isinstance(first, dict) else set()
    columns = set(frame.columns) & set(FINDING_COLUMNS)
    absent = [f for f in rule.stable_facts if f not in columns and frame.height and f not in keys]
    if absent:
        raise ValueError(f"{rule.code}: stable fact {', '.join(absent)} is neither a finding column nor an evidence key")


def run_rules(ctx: AuditContext, codes: list[str] | None = None,
              on_rule=None) -> tuple[pl.DataFrame, list[CheckStatus]]:
    """Run the selected rules (all by default) and return findings and statuses.

    Rules run family by family; the frames one family shared are released
    before the next starts, so peak memory is that of the largest family.
    """
    catalogue = sorted(load_catalogue().items(), key=lambda item: (item[1].family, item[0]))
    frames, statuses, family = [], [], None
    for code, cls in catalogue:
        if codes is not None and code not in codes:
            continue
        if cls.family != family:
            ctx.release()
            family = cls.family
            log.info("family %s started", family or "-")
        rule = cls()
        start = time.perf_counter()
        reason = rule.missing_input(ctx)
        frame = None
        if reason is None:
            try:
                frame = _complete(rule, rule.find(ctx), ctx.month)
            except RuleNotRun as exc:
                reason = str(exc)
        status = CheckStatus(code, cls.name, cls.family, ran=reason is None, reason=reason or "",
                             findings=0 if frame is None else frame.height,
                             seconds=round(time.perf_counter() - start, 3))
        statuses.append(status)
        if frame is not None and frame.height:
            frames.append(frame)
        if on_rule is not None:
            on_rule(status)
    findings = pl.concat(frames) if frames else empty_findings()
    return findings.sort("rule", "finding_id"), statuses
