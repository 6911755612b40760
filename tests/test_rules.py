"""Every rule's fire / no-fire cases (tests/cases/*.yaml), through the real loader."""

from __future__ import annotations

import pytest

from auditor.engine.runner import load_catalogue
from tests.rulecases import CASES_DIR, evidence_key_errors, expected_rows, load_cases, run_case, subject_of

CASES = load_cases()


@pytest.mark.parametrize(("doc", "case"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_case(tmp_path, doc, case):
    findings, statuses = run_case(tmp_path, doc, case)
    status = next(s for s in statuses if s.code == doc["rule"])
    if case.get("not_run"):
        assert not status.ran and case["not_run"] in status.reason
        return
    assert status.ran, status.reason
    expected = expected_rows(doc, case)
    keys = sorted({k for row in expected for k in row} | set(subject_of(doc["rule"])))
    got = sorted(tuple(str(r[k]) if r[k] is not None else "" for k in keys) for r in findings.iter_rows(named=True))
    want = sorted(tuple(row.get(k, None) for k in keys) for row in expected)
    # columns an expectation does not name are compared only when it names them
    got = [tuple(g if w is not None else None for g, w in zip(gr, wr, strict=False)) for gr, wr in zip(got, want, strict=False)] \
        if len(got) == len(want) else got
    assert got == want, f"\nkeys {keys}\nfindings:\n{findings}"
    for r in findings.iter_rows(named=True):
        assert r["title"] and r["evidence"].startswith("{")
    assert not evidence_key_errors(case, findings)


def test_every_rule_has_cases_that_fire_and_that_do_not():
    by_rule: dict[str, list[dict]] = {}
    for _, doc, case in CASES:
        by_rule.setdefault(doc["rule"], []).append(case)
    for code in load_catalogue():
        cases = by_rule.get(code, [])
        assert any(c.get("fires") for c in cases), f"{code} has no case that fires ({CASES_DIR})"
        assert any(c.get("fires") == [] for c in cases), f"{code} has no near-miss case"
