"""The rule registry: the ``Rule`` base class, ``@register`` and the finding identity.

A rule is a class in its own module under ``checks/<family>/<CODE>.py``,
registered with ``@register``. It declares its metadata once (code, name,
severity, subject, the tables/columns it needs, the profile parameters it
reads, the groups it belongs to) and implements ``find(ctx)``, returning one
row per finding as a polars frame holding its subject columns, any other
finding columns it knows, ``amount_fen``, ``title`` and ``evidence`` (a JSON
string). The family's package ``checks/<family>/__init__.py`` holds its
Chinese ``LABEL``.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from abc import ABC, abstractmethod
from typing import ClassVar

import polars as pl

from auditor.core.config import Profile
from auditor.core.vocab import SEVERITIES
from auditor.engine.context import AuditContext

log = logging.getLogger("auditor")

# Columns a finding may carry besides the fixed ones (rule, severity, month, ...).
SUBJECT_COLUMNS = ("street", "program", "person_id", "case_id", "staff_id",
                   "bank_account", "application_id", "record_id")
FINDING_COLUMNS = ("finding_id", "rule", "severity", "month", *SUBJECT_COLUMNS,
                   "amount_fen", "title", "evidence")
# The rule groups callers select by (``Rule.groups``), with what each is for.
GROUPS = {
    "quarterly": "按季度信息共享核查 (the quarterly information-sharing job)",
    "graph": "关系图页面展示的规则 (rules the graph page shows for a person or staff member)",
    "drawn": "月报关系线索中绘制路径的规则 (findings drawn as paths in the monthly report)",
    "reconciliation_totals": "资金比对金额合计所依据的规则 (rules behind the matched / at-risk money totals)",
}


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
    groups: ClassVar[frozenset[str]] = frozenset()  # names of GROUPS it belongs to
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
    bad_params = [p for p in cls.params if p not in Profile.model_fields]
    if not isinstance(cls.params, tuple) or bad_params:
        raise ValueError(f"{code}: params {bad_params or cls.params} are not fields of auditor.core.config.Profile")
    bad_groups = sorted(g for g in cls.groups if g not in GROUPS) if isinstance(cls.groups, frozenset) else None
    if bad_groups is None or bad_groups:
        raise ValueError(f"{code}: groups {bad_groups or cls.groups!r} not a frozenset of {sorted(GROUPS)}")
    cls.family = cls.__module__.split(".")[-2] if cls.__module__.count(".") >= 2 else ""
    package = sys.modules.get(cls.__module__.rsplit(".", 1)[0]) if cls.__module__.startswith("checks.") else None
    if package is not None and not isinstance(getattr(package, "LABEL", None), str):
        raise ValueError(f"{code}: family package {package.__name__} declares no LABEL")
    REGISTRY[code] = cls
    return cls


def finding_id(rule: str, subject_values: list[str | None]) -> str:
    """Stable id for (rule, subject): the same across reruns and months."""
    digest = hashlib.sha1("|".join([rule, *(v or "" for v in subject_values)]).encode()).hexdigest()
    return f"{rule}-{digest[:12].upper()}"
