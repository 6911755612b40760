"""A finding's stable facts: what a dismissal is about (rules.md, "Stable facts and follow-up").

Each rule declares ``stable_facts``: finding columns and/or evidence keys whose
change means a different situation. A finding's facts are those values only
(an evidence key wins over a finding column of the same name), with lists
sorted so that sets compare regardless of order. Counters that grow with time,
the month's own row ids and cumulative totals are never declared, so the audit
month itself never enters the facts and needs no rewriting.

The hash (rule + canonical JSON of the facts) decides whether a dismissed
finding comes back; the stored facts JSON lets the reopen event name each
changed fact with its old and new value.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

import polars as pl

# Chinese label of each fact name used by the catalogue (the name itself is shown beside it).
LABELS = {
    "street": "街镇", "program": "救助项目", "person_id": "人员", "payee_id": "领款人", "case_id": "案件",
    "case_ids": "案件", "staff_id": "工作人员", "bank_account": "账户", "application_id": "申请",
    "record_id": "失信记录", "record_ids": "失信记录", "amount_fen": "金额（分）",
    "instructed": "指令金额", "paid": "实付金额", "instr_accounts": "指令账户", "other_accounts": "其他收款账户",
    "late_count": "迟付笔数", "late_total": "迟付金额", "allocated": "拨付额",
    "died_on": "死亡日期", "public_payroll": "财政供养记录", "vehicles": "车辆", "businesses": "市场主体",
    "properties": "不动产", "imprisonment": "服刑记录", "jobs": "就业记录", "review_cycle": "核查周期",
    "last_reviewed_on": "最近核查日期", "approved_on": "审批日期", "review_due": "核查到期日",
    "status": "案件状态", "end_month": "终止月份", "basis": "供养依据", "born": "出生日期",
    "phase_out_start": "渐退起始月", "small_amount_total": "小金额救助合计", "deadline": "审批期限",
    "relation": "亲属关系", "roles": "经办角色", "relatives": "近亲属", "shared_values": "共用电话或住址",
    "cases": "关联案件", "payee_ids": "领款人", "holders": "开户人", "ways": "持卡方式", "filings": "代管备案",
    "defrauded": "骗取金额", "recorded_on": "认定日期", "reported_on": "报送日期",
}


def canonical(value: object) -> str:
    """Canonical JSON text: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def normalise(value: object) -> object:
    """Nested dicts normalised, every list sorted (a fact list is a set)."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((normalise(v) for v in value), key=canonical)
    return value


@cache
def declared(rule: str) -> tuple[str, ...]:
    """The stable facts the rule ``rule`` declares; ValueError for an unknown rule."""
    from auditor.engine.runner import load_catalogue

    catalogue = load_catalogue()
    if rule not in catalogue:
        raise ValueError(f"unknown rule {rule}: no stable facts declared")
    return catalogue[rule].stable_facts


def extract(names: tuple[str, ...], row: dict, evidence: object) -> dict:
    """The facts ``names`` of one finding (``row``: its columns, ``evidence``: parsed JSON)."""
    ev = evidence if isinstance(evidence, dict) else {}
    return {n: normalise(ev[n] if n in ev else row.get(n)) for n in names}


def parse(evidence: str | None) -> object:
    """A finding's evidence JSON text parsed (None when empty or not JSON)."""
    try:
        return json.loads(evidence) if evidence else None
    except ValueError:
        return None


def facts_of(rule: str, row: dict, evidence: str | None) -> dict:
    """The stable facts of one finding from its columns and evidence JSON text."""
    return extract(declared(rule), row, parse(evidence))


def _hash_text(rule: str, text: str) -> str:
    return hashlib.sha1(f"{rule}|{text}".encode()).hexdigest()


def facts_hash(rule: str, facts: dict) -> str:
    """Fingerprint of (rule, facts)."""
    return _hash_text(rule, canonical(facts))


def frame_facts(frame: pl.DataFrame, evidence: list[object]) -> tuple[list[str], list[str]]:
    """Facts JSON and facts hash for every finding of ``frame``; ``evidence``: each one's evidence parsed."""
    from auditor.engine.registry import FINDING_COLUMNS

    columns = [c for c in FINDING_COLUMNS if c in frame.columns and c != "title"]
    texts, hashes = [], []
    for row, parsed in zip(frame.select(columns).iter_rows(named=True), evidence, strict=True):
        text = canonical(extract(declared(row["rule"]), row, parsed))
        texts.append(text)
        hashes.append(_hash_text(row["rule"], text))
    return texts, hashes


def facts_diff(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """(fact, old value, new value) for every fact that differs, in declaration order."""
    names = list(dict.fromkeys([*new, *old]))
    return [(n, old.get(n), new.get(n)) for n in names if old.get(n) != new.get(n)]


def _shown(value: object) -> str:
    if value is None:
        return "空"
    if isinstance(value, list):
        return "、".join(_shown(v) for v in value) or "空"
    if isinstance(value, dict):
        return canonical(value)
    return str(value)


def describe(diff: list[tuple[str, object, object]]) -> str:
    """``死亡日期 died_on 2026-09-03 → 2026-08-30；...`` for a reopen event's note."""
    return "；".join(f"{LABELS.get(n, n)} {n} {_shown(a)} → {_shown(b)}" for n, a, b in diff)
