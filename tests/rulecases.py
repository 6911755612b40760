"""Table-driven rule cases: ``tests/cases/<CODE>.yaml`` run through the real loader.

A case file holds a list of cases::

    rule: R01
    month: 2026-10          # default audit month of every case
    profile: changning      # optional district profile (a case may name its own)
    cases:
      - name: paid without instruction
        tables:
          ledger: [{payee_id: "@A"}]
        fires: [{person_id: "@A", program: dibao, amount: "1200.00"}]
      - name: returned row only (near-miss)
        tables:
          ledger: [{payee_id: "@A", status: returned}]
        fires: []

``@name`` is a person token, turned into a valid resident id (``@name/19600101``
fixes the birth date). Rows get the defaults of ``DEFAULTS`` for columns they
do not state, and ``{M}`` in a value is the audit month. Each case is written to
CSV files, loaded with the real loader, and only the case's rule is run; the
findings must match ``fires`` exactly: the subject columns of every finding,
plus any other column an expectation names (e.g. ``amount``). A firing case may
state ``evidence_keys: [..]``: the keys of every finding's evidence JSON, exactly.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path

import polars as pl
import yaml

from auditor.core.config import load_profile
from auditor.demo.district import resident_id
from auditor.engine.context import AuditContext
from auditor.engine.runner import load_catalogue, run_rules
from auditor.ingest.loader import load_drop
from auditor.ingest.schema import TABLES
from auditor.reporting.files import findings_csv_frame

CASES_DIR = Path(__file__).parent / "cases"
TOKEN = re.compile(r"^@([A-Za-z0-9_]+)(?:/(\d{8}))?$")

# Defaults per table; "{n}" is the row number within the case, "{M}" the audit month.
DEFAULTS: dict[str, dict[str, str]] = {
    "cases": {"case_id": "C{n}", "program": "dibao", "street": "华阳路街道", "community": "长宁路居委会",
              "status": "active", "start_month": "2026-01", "monthly_amount": "1200.00",
              "bank_account": "6222000000000001", "approved_on": "2025-12-20", "review_cycle": "annual",
              "last_reviewed_on": "{M}-01"},
    "members": {"case_id": "C1", "name": "张三", "relation_to_payee": "self"},
    "payments": {"payment_id": "P{n}", "case_id": "C1", "program": "dibao", "month": "{M}",
                 "amount": "1200.00", "bank_account": "6222000000000001", "street": "华阳路街道"},
    "ledger": {"txn_id": "T{n}", "program": "dibao", "month": "{M}", "amount": "1200.00",
               "bank_account": "6222000000000001", "paid_on": "{M}-05", "street": "华阳路街道",
               "status": "paid"},
    "allocations": {"street": "华阳路街道", "program": "dibao", "month": "{M}"},
    "staff": {"staff_id": "S{n}", "name": "李四", "role": "civil_affairs", "street": "华阳路街道",
              "community": "长宁路居委会", "active_from": "2020-01-01"},
    "kin_filings": {"filing_id": "KF{n}", "filed_on": "2025-01-01"},
    "custody_filings": {"filing_id": "CF{n}", "start_date": "2025-01-01", "approved_by": "S1"},
    "dishonesty": {"record_id": "D{n}", "name": "王五", "recorded_on": "2026-01-01"},
    "applications": {"application_id": "A{n}", "program": "dibao", "street": "华阳路街道"},
}


def person(token: str) -> str:
    """A stable valid resident id for a token like ``@A`` or ``@kid/20081015``."""
    m = TOKEN.match(token)
    assert m, token
    name, birth = m.group(1), m.group(2)
    h = int(hashlib.sha1(name.encode()).hexdigest(), 16)
    born = (date(int(birth[:4]), int(birth[4:6]), int(birth[6:])) if birth
            else date(1950 + h % 40, 1 + h % 12, 1 + h % 28))
    return resident_id(born, h % 1000)


def resolve(value, month: str):
    if isinstance(value, str):
        if TOKEN.match(value):
            return person(value)
        return value.replace("{M}", month)
    if isinstance(value, list):
        return [resolve(v, month) for v in value]
    return value


def load_cases() -> list[tuple[str, dict, dict]]:
    """(id, file header, case) for every case of every file, for parametrisation."""
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            out.append((f"{path.stem}: {case['name']}", doc, case))
    return out


def write_case(tmp: Path, doc: dict, case: dict) -> str:
    month = str(case.get("month", doc.get("month", "2026-10")))
    tables = {**doc.get("tables", {}), **case.get("tables", {})}
    for name in ("cases", "members", "payments", "ledger"):
        tables.setdefault(name, [])
    for name, rows in tables.items():
        table = TABLES[name]
        cols = [c.name for c in table.columns]
        data = []
        for n, row in enumerate(rows or [], start=1):
            full = {k: v.replace("{n}", str(n)) for k, v in DEFAULTS.get(name, {}).items()} | (row or {})
            data.append({c: "" if full.get(c) is None else str(resolve(full.get(c), month)) for c in cols})
        pl.DataFrame(data, schema={c: pl.String for c in cols}).write_csv(tmp / f"{name}.csv")
    return month


def run_case(tmp: Path, doc: dict, case: dict) -> tuple[pl.DataFrame, list]:
    month = write_case(tmp, doc, case)
    profile = load_profile(case.get("profile", doc.get("profile")))
    params = {**doc.get("params", {}), **case.get("params", {})}
    if params:
        profile = profile.model_copy(update=params)
    drop = load_drop(tmp, profile)
    assert drop.quarantine.height == 0, f"case rows were quarantined:\n{drop.quarantine}"
    ctx = AuditContext(month=month, profile=profile, drop=drop)
    frame, statuses = run_rules(ctx, [doc["rule"]])
    return findings_csv_frame(frame), statuses


def expected_rows(doc: dict, case: dict) -> list[dict]:
    month = str(case.get("month", doc.get("month", "2026-10")))
    return [{k: str(resolve(v, month)) for k, v in row.items()} for row in case["fires"]]


def subject_of(code: str) -> tuple[str, ...]:
    return load_catalogue()[code].subject


def evidence_key_errors(case: dict, findings: pl.DataFrame) -> list[str]:
    """Findings whose evidence keys differ from the case's ``evidence_keys`` (none when it states none)."""
    want = case.get("evidence_keys")
    if want is None:
        return []
    assert case.get("fires"), "evidence_keys belong on a case that fires"
    return [f"{r['finding_id']}: evidence keys {sorted(got)} != {sorted(want)}"
            for r in findings.iter_rows(named=True) if (got := set(json.loads(r["evidence"]))) != set(want)]
