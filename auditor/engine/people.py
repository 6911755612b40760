"""The people a finding involves, read from its subject column and its evidence.

Each person gets the role in which they appear: ``subject`` (the finding's person column),
``payee``, ``account_holder``, ``custodian``, ``relative``, ``member``, ``staff_person`` or
``on_path`` (a person node of a relationship path). Filled into ``finding_people`` at run time
so "which findings involve this person" finds every one, not only those where they are the subject.
"""

from __future__ import annotations

from typing import Any

from auditor.engine.facts import parse

ROLE_OF_KEY = {
    "person_id": "member", "person_ids": "member", "members": "member",
    "payee_id": "payee", "payee_ids": "payee",
    "holder_id": "account_holder", "holders": "account_holder",
    "custodian_id": "custodian",
    "relative_id": "relative", "relative_ids": "relative", "relatives": "relative",
    "staff_person_id": "staff_person",
}
PATH_KEYS = ("id", "source", "target")  # a relationship path's node ("P:<person id>") or edge ends


def people_of(subject: str | None, evidence: str | None) -> set[tuple[str, str]]:
    """``(person_id, role)`` pairs of one finding."""
    return people_in(subject, parse(evidence))


def people_in(subject: str | None, evidence: object) -> set[tuple[str, str]]:
    """``(person_id, role)`` pairs of one finding, its evidence parsed (``auditor.engine.facts.parse``)."""
    found: set[tuple[str, str]] = {(subject, "subject")} if subject else set()
    _walk(evidence, found)
    if subject:
        found.discard((subject, "member"))
    return {(p, r) for p, r in found if p and len(p) <= 32}


def _walk(obj: Any, found: set[tuple[str, str]]) -> None:
    """Add the people of ``obj``; only dicts and lists are descended into (the rest holds nobody)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            role = ROLE_OF_KEY.get(k)
            if isinstance(v, str):
                if role:
                    found.add((v, role))
                elif k in PATH_KEYS and v.startswith("P:"):
                    found.add((v[2:], "on_path"))
            elif role and isinstance(v, list) and all(isinstance(x, str) for x in v):
                found.update((x, role) for x in v)
            elif isinstance(v, dict | list):
                _walk(v, found)
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, dict | list):
                _walk(v, found)
