"""E rules beyond the YAML cases: money not due with its months, the clean base district."""

from __future__ import annotations

import json

import pytest

from auditor.core.config import load_profile
from auditor.demo.district import build_base
from auditor.demo.plant_relations import clean_tables
from auditor.demo.write import write_drop
from auditor.engine.context import AuditContext
from auditor.engine.runner import run_rules
from auditor.ingest.loader import load_drop
from tests.rulecases import run_case

E_RULES = [f"E{n:02d}" for n in range(1, 13)]
HISTORY = [{"payee_id": "@A", "month": m, "amount": a}
           for m, a in (("2026-06", "1000.00"), ("2026-07", "1100.00"), ("2026-08", "1200.00"),
                        ("2026-09", "1300.00"), ("2026-10", "1400.00"), ("2026-11", "9999.00"))]
BASE = {"cases": [{"case_id": "C1", "payee_id": "@A"}],
        "members": [{"case_id": "C1", "person_id": "@A"}, {"case_id": "C1", "person_id": "@B"}],
        "ledger": HISTORY + [{"payee_id": "@A", "month": "2026-09", "status": "returned", "amount": "5000.00"}]}


def _one(tmp_path, rule: str, tables: dict) -> dict:
    findings, _ = run_case(tmp_path, {"rule": rule, "month": "2026-10"}, {"name": rule, "tables": BASE | tables})
    assert findings.height == 1, findings
    row = findings.row(0, named=True)
    return row | {"evidence": json.loads(row["evidence"])}


def test_e01_amount_is_paid_months_after_death_up_to_m(tmp_path):
    got = _one(tmp_path, "E01", {"deaths": [{"person_id": "@B", "died_on": "2026-07-31"}]})
    assert got["amount"] == "3900.00"  # 08 + 09 + 10; returned row and month after M excluded
    assert got["evidence"]["months_paid_after_death"] == ["2026-08", "2026-09", "2026-10"]


def test_e04_amount_is_months_wholly_inside_the_sentence(tmp_path):
    got = _one(tmp_path, "E04", {"penalties": [{"person_id": "@A", "kind": "imprisonment",
                                                "start_date": "2026-07-02", "end_date": "2026-12-31"}]})
    assert got["amount"] == "3900.00"  # July started on the 2nd: not wholly inside
    assert got["evidence"]["months_paid_in_prison"] == ["2026-08", "2026-09", "2026-10"]


@pytest.mark.parametrize(("status", "end_month", "amount", "months"), [
    ("terminated", "2026-07", "3900.00", ["2026-08", "2026-09", "2026-10"]),
    ("suspended", "2026-07", "3900.00", ["2026-08", "2026-09", "2026-10"]),
    ("suspended", "", "1400.00", ["2026-10"]),
])
def test_e08_amount_after_end_month_or_m_when_suspended(tmp_path, status, end_month, amount, months):
    cases = [{"case_id": "C1", "payee_id": "@A", "status": status, "end_month": end_month}]
    got = _one(tmp_path, "E08", {"cases": cases})
    assert got["amount"] == amount
    assert got["evidence"]["months_not_due"] == months


def test_history_rows_without_case_id_match_by_payee_and_program(tmp_path):
    cases = [{"case_id": "C1", "payee_id": "@A", "status": "terminated", "end_month": "2026-08"},
             {"case_id": "C2", "payee_id": "@A", "program": "tekun"}]
    ledger = HISTORY + [{"payee_id": "@A", "program": "tekun", "month": "2026-09", "amount": "7777.00"}]
    got = _one(tmp_path, "E08", {"cases": cases, "ledger": ledger})
    assert got["case_id"] == "C1" and got["amount"] == "2700.00"


def test_base_district_fires_no_eligibility_rule(tmp_path):
    d = build_base(n_cases=400)
    clean_tables(d)
    write_drop(d, tmp_path)
    profile = load_profile(None)
    ctx = AuditContext(month=d.month, profile=profile, drop=load_drop(tmp_path, profile))
    findings, statuses = run_rules(ctx, E_RULES)
    assert findings.height == 0, findings
    assert {s.code for s in statuses if s.ran} >= {"E06", "E07", "E08", "E09", "E10", "E11"}
