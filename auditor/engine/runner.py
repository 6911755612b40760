"""Running the catalogue: every module under ``checks/`` loaded, rules run family by family,
their output given the full finding shape and checked against the rule's metadata."""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.registry import FINDING_COLUMNS, GROUPS, REGISTRY, Rule, RuleNotRun, finding_id

log = logging.getLogger("auditor")


PLANT_SUFFIX = "_plant"  # ``checks/<family>/<CODE>_plant.py``: demo and benchmark plants, not rules


def load_catalogue() -> dict[str, type[Rule]]:
    """Import every rule module under ``checks/`` (not the plants) so that its rule registers itself."""
    _import_checks()
    return dict(sorted(REGISTRY.items()))


@cache
def _import_checks() -> None:
    """Import the rule modules (once: walking the package tree costs about a millisecond)."""
    import checks

    for info in pkgutil.walk_packages(checks.__path__, prefix="checks."):
        if not info.name.endswith(PLANT_SUFFIX):
            importlib.import_module(info.name)


def rules_in(group: str) -> tuple[str, ...]:
    """Codes of the rules that declare ``group`` (a name of ``GROUPS``), sorted."""
    if group not in GROUPS:
        raise ValueError(f"unknown rule group {group!r}; known: {sorted(GROUPS)}")
    return tuple(code for code, cls in load_catalogue().items() if group in cls.groups)


def family_label(family: str) -> str:
    """The Chinese label of a rule family (``LABEL`` of ``checks/<family>/__init__.py``), else the name."""
    try:
        return importlib.import_module(f"checks.{family}").LABEL
    except (ImportError, AttributeError, ValueError):
        return family


@dataclass
class CheckStatus:
    code: str
    name: str
    family: str
    ran: bool
    reason: str = ""
    findings: int = 0
    seconds: float = 0.0
    skipped: dict[str, int] = field(default_factory=dict)  # input items the rule could not use (Rule.skip)


def empty_findings() -> pl.DataFrame:
    schema = {c: pl.String for c in FINDING_COLUMNS} | {"amount_fen": pl.Int64}
    return pl.DataFrame(schema=schema)


def _complete(rule: Rule, frame: pl.DataFrame, month: str) -> pl.DataFrame:
    """Give a rule's output the full finding shape, with ids, and check its subject."""
    missing = [c for c in rule.subject if c not in frame.columns]
    if missing:
        raise ValueError(f"{rule.code} returned no subject column {missing}")
    if frame.height:  # both checks in one pass
        empty, repeated = frame.select(
            pl.any_horizontal(pl.col(list(rule.subject)).is_null()).any().alias("empty"),
            pl.struct(list(rule.subject)).is_duplicated().any().alias("repeated")).row(0)
        if empty:
            raise ValueError(f"{rule.code} returned a finding with an empty subject column")
        if repeated:
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
        raise ValueError(f"{rule.code}: stable fact {', '.join(absent)} is neither a finding column "
                         "nor an evidence key")


def run_rules(ctx: AuditContext, codes: list[str] | None = None,
              on_rule: Callable[[CheckStatus], None] | None = None) -> tuple[pl.DataFrame, list[CheckStatus]]:
    """Run the selected rules (all by default) and return findings and statuses.

    Rules run family by family; the frames one family shared are released
    before the next starts, so peak memory is that of the largest family.
    """
    catalogue = sorted(((code, cls) for code, cls in load_catalogue().items() if codes is None or code in codes),
                       key=lambda item: (item[1].family, item[0]))
    frames, statuses, family = [], [], None
    for at, (code, cls) in enumerate(catalogue):
        if cls.family != family:
            ctx.release({c.family for _, c in catalogue[at:]})  # kept frames of the families still to run
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
                             seconds=round(time.perf_counter() - start, 3),
                             skipped=dict(getattr(rule, "skipped", {})))
        statuses.append(status)
        if frame is not None and frame.height:
            frames.append(frame)
        if on_rule is not None:
            on_rule(status)
    findings = pl.concat(frames) if frames else empty_findings()
    return findings.sort("rule", "finding_id"), statuses
