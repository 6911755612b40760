"""Stable facts (issue #12): a dismissed clue stays dismissed while its declared facts stay the same.

Months M+1.. are built from the demo drop of M by copying M's payment, ledger and
allocation rows with new ids and dates a month later (same cases, people,
accounts, filings); the findings of each month are computed once and saved into
each kind of database, as ``run_audit`` does.
"""

from __future__ import annotations

import calendar
import json
from datetime import UTC, date, datetime

import polars as pl
import pytest
from alembic import command
from sqlalchemy import bindparam, select, update

from auditor import store
from auditor.core.config import load_profile
from auditor.demo.generate import build
from auditor.demo.write import write_drop
from auditor.engine import facts
from auditor.engine.context import AuditContext
from auditor.engine.registry import REGISTRY, Rule, register
from auditor.engine.runner import _complete, load_catalogue, run_rules
from auditor.followup import recurrence
from auditor.followup import workflow as followup
from auditor.ingest.loader import load_drop
from auditor.store import db as store_db

M = "2026-10"
MONTHS = ["2026-10", "2026-11", "2026-12", "2027-01"]  # M, M+1, M+2 same facts; M+3 one fact changed per rule below
NEW_PHONE = "13900001234"


def later(d: date, k: int) -> date:
    y, m = divmod(d.month - 1 + k, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def copy_month(district, k: int) -> None:
    """Add M's payments, ledger and allocation rows again as month M+k: new ids, dates k months later."""
    month = MONTHS[k]
    for table, id_col, date_col in (("payments", "payment_id", None), ("ledger", "txn_id", "paid_on"),
                                    ("allocations", None, "allocated_on")):
        rows = [r for r in district.tables[table] if r["month"] == M]
        for r in rows:
            new = dict(r, month=month)
            if id_col:
                new[id_col] = r[id_col].replace(M.replace("-", ""), month.replace("-", ""), 1)
            if date_col and isinstance(r.get(date_col), date):
                new[date_col] = later(r[date_col], k)
            district.tables[table].append(new)


def audit(district, month: str, tmp) -> pl.DataFrame:
    """The findings frame of ``month`` on the district's current tables."""
    drop = tmp / month
    write_drop(district, drop)
    profile = load_profile(None)
    ctx = AuditContext(month=month, profile=profile, drop=load_drop(drop, profile))
    return run_rules(ctx)[0]


def change_one_fact_per_family(district, first: pl.DataFrame) -> dict[str, str]:
    """Change one declared fact of one finding of C01, E01, D02, R03 and K03 in M+3; return rule -> finding id."""
    t = district.tables
    pick = {r: first.filter(pl.col("rule") == r).row(0, named=True) for r in ("C01", "E01", "D02", "R03", "K03")}
    last = MONTHS[3]
    # C01: a payee of another street and case, unrelated, paid into the account too
    c01 = pick["C01"]
    payees = set(json.loads(c01["evidence"])["payee_ids"])
    row = next(r for r in t["ledger"] if r["month"] == last and r["status"] == "paid" and r["payee_id"] not in payees
               and r["street"] != c01["street"] and r["program"] == "dibao")
    row["bank_account"] = c01["bank_account"]
    for p in t["payments"]:
        if p["month"] == last and p["payee_id"] == row["payee_id"] and p["program"] == row["program"]:
            p["bank_account"] = c01["bank_account"]
    # E01: a corrected date of death, still before M
    for r in t["deaths"]:
        if r["person_id"] == pick["E01"]["person_id"]:
            r["died_on"] = r["died_on"].replace(day=1)
    # D02: more money found defrauded
    for r in t["dishonesty"]:
        if r["record_id"] == pick["D02"]["record_id"]:
            r["amount_defrauded"] += 100000
    # R03: a different paid amount
    r03 = pick["R03"]
    next(r for r in t["ledger"] if r["month"] == last and r["payee_id"] == r03["person_id"]
         and r["program"] == r03["program"] and r["status"] == "paid")["amount"] -= 1000
    # K03: the shared phone is a different one (staff and member both change to a new number)
    k03 = next(r for r in first.filter(pl.col("rule") == "K03").iter_rows(named=True)
               if "电话" in json.loads(r["evidence"])["shared"])
    pick["K03"] = k03
    staff = next(s for s in t["staff"] if s["staff_id"] == k03["staff_id"])
    old_phone = staff["phone"]
    for r in [staff, *t["members"]]:
        if r.get("phone") == old_phone:
            r["phone"] = NEW_PHONE
    return {rule: f["finding_id"] for rule, f in pick.items()}


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    """Findings frames of M..M+3 (M+3 with the changes) and the finding changed per rule."""
    tmp = tmp_path_factory.mktemp("months")
    district = build(M, n_cases=800)
    frames = [audit(district, M, tmp)]
    for k in (1, 2, 3):
        copy_month(district, k)
        if k == 3:
            changed = change_one_fact_per_family(district, frames[0])
        frames.append(audit(district, MONTHS[k], tmp))
    return frames, changed


def save(engine, month: str, frame: pl.DataFrame) -> None:
    recurrence.save_run(engine, month=month, profile="changning", data_dir="x", started_at=datetime.now(UTC),
                   frame=frame, summary={"month": month})


def dismiss_all(engine, frame: pl.DataFrame) -> None:
    for fid in frame["finding_id"]:
        followup.close(engine, fid, "dismissed", actor="auditor", reason="核实线索不实")


def statuses(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(store.findings.c.finding_id, store.findings.c.status)).all())


def reopen_notes(engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(store.events.c.finding_id, store.events.c.note)
                            .where(store.events.c.action == "reopened")).all()
    return dict(rows)


def stored_facts(engine, fid: str, month: str) -> dict:
    with engine.connect() as conn:
        text = conn.execute(select(store.occurrences.c.facts).where(
            store.occurrences.c.finding_id == fid, store.occurrences.c.month == month)).scalar_one()
    return json.loads(text)


def test_every_rule_keeps_its_dismissals_over_three_months_of_the_same_facts(db_url, months):
    frames, _ = months
    engine = store.connect(db_url)
    assert set(frames[0]["rule"]) == set(load_catalogue())  # the demo plants every rule
    save(engine, M, frames[0])
    dismiss_all(engine, frames[0])
    for k in (1, 2):
        save(engine, MONTHS[k], frames[k])
    state = statuses(engine)
    assert {state[fid] for fid in frames[0]["finding_id"]} == {"dismissed"}
    assert reopen_notes(engine) == {}
    recurring = frames[2].filter(pl.col("finding_id").is_in(frames[0]["finding_id"].implode()))
    assert set(recurring["rule"]) == set(load_catalogue())  # every rule was exercised on a dismissed finding
    engine.dispose()


def test_a_changed_declared_fact_reopens_the_clue_naming_old_and_new_value(db_url, months):
    frames, changed = months
    engine = store.connect(db_url)
    save(engine, M, frames[0])
    dismiss_all(engine, frames[0])
    for k in (1, 2, 3):
        save(engine, MONTHS[k], frames[k])
    last, notes, state = MONTHS[3], reopen_notes(engine), statuses(engine)
    expected = {"C01": "payee_ids", "E01": "died_on", "D02": "defrauded", "R03": "paid", "K03": "shared_values"}
    for rule, fid in changed.items():
        old, new = stored_facts(engine, fid, M), stored_facts(engine, fid, last)
        assert [name for name, _, _ in facts.facts_diff(old, new)] == [expected[rule]], rule
        assert state[fid] == "new", rule
        name = expected[rule]
        shown = ["、".join(v) if isinstance(v, list) else v for v in (old[name], new[name])]
        assert f"{facts.LABELS[name]} {name} {shown[0]} → {shown[1]}" in notes[fid], notes[fid]
    c01 = stored_facts(engine, changed["C01"], last)["payee_ids"]
    assert len(c01) == len(stored_facts(engine, changed["C01"], M)["payee_ids"]) + 1
    assert any(NEW_PHONE in v for v in stored_facts(engine, changed["K03"], last)["shared_values"])
    # a dismissed clue of M that fires in M+3 is back exactly when its declared facts differ from M's
    for fid in frames[3].filter(pl.col("finding_id").is_in(frames[0]["finding_id"].implode()))["finding_id"]:
        differs = stored_facts(engine, fid, M) != stored_facts(engine, fid, last)
        assert (state[fid] == "new") == differs == (fid in notes), fid
    engine.dispose()


def old_facts_hash(rule: str, amount_fen: int | None, evidence: str, month: str) -> str:
    """The hash before stable facts: whole evidence minus volatile keys, the month as ``{M}``."""
    import hashlib

    volatile = {"month", "run_id", "generated_at", "_row", "source_row", "payment_id", "txn_id"}

    def clean(v):
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if k not in volatile}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v.replace(month, "{M}") if isinstance(v, str) else v
    text = json.dumps(clean(json.loads(evidence)), sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(f"{rule}|{amount_fen}|{text}".encode()).hexdigest()


def test_migration_recomputes_old_hashes_so_dismissals_hold(db_url, months):
    frames, _ = months
    olds = [{r["finding_id"]: old_facts_hash(r["rule"], r["amount_fen"], r["evidence"], r["month"])
             for r in frames[k].iter_rows(named=True)} for k in (0, 1)]
    assert any(olds[0][fid] != h for fid, h in olds[1].items() if fid in olds[0])  # the old way would reopen
    engine = store.connect(db_url)
    save(engine, M, frames[0])
    dismiss_all(engine, frames[0])
    with engine.begin() as conn:  # the store as the code before migration 0002 left it
        old = [{"fid": fid, "h": h} for fid, h in olds[0].items()]
        by_id = store.findings.c.finding_id == bindparam("fid")
        conn.execute(update(store.findings).where(by_id).values(facts_hash=bindparam("h")), old)
        conn.execute(update(store.occurrences).where(store.occurrences.c.finding_id == bindparam("fid"))
                     .values(facts_hash=bindparam("h")), old)
        command.downgrade(store_db._alembic_config(conn), "0001")
    assert store.schema_revision(engine) == "0001"
    engine.dispose()

    engine = store.connect(db_url)  # upgrades: 0002 recomputes the stored facts
    assert store.schema_revision(engine) >= "0002"  # upgraded to the newest (0002 and later)
    with engine.connect() as conn:
        assert conn.execute(select(store.occurrences.c.facts).where(store.occurrences.c.facts.is_(None))).all() == []
    save(engine, MONTHS[1], frames[1])
    state = statuses(engine)
    assert {state[fid] for fid in frames[0]["finding_id"]} == {"dismissed"}
    assert reopen_notes(engine) == {}
    engine.dispose()


def test_registry_refuses_a_rule_without_stable_facts():
    base = {"__doc__": "d", "code": "Z97", "name": "x", "severity": "low", "subject": ("person_id",)}
    for bad in ({}, {"stable_facts": ()}, {"stable_facts": ["person_id"]}, {"stable_facts": ("person_id", 3)}):
        with pytest.raises(ValueError, match="Z97: stable_facts"):
            register(type("Z97", (Rule,), base | bad))
    assert "Z97" not in REGISTRY


def test_engine_refuses_a_declared_fact_the_rule_does_not_produce():
    class Z96(Rule):
        """A rule whose evidence lacks a declared fact."""
        code, name, severity, subject = "Z96", "x", "low", ("person_id",)
        stable_facts = ("person_id", "died_on")

        def find(self, ctx):
            return pl.DataFrame({"person_id": ["P1"], "title": ["t"], "evidence": ['{"person_id": "P1"}']})

    frame = Z96().find(None)
    with pytest.raises(ValueError, match="Z96: stable fact died_on"):
        _complete(Z96(), frame, M)
    ok = frame.with_columns(evidence=pl.lit('{"person_id": "P1", "died_on": "2026-09-03"}'))
    assert _complete(Z96(), ok, M).height == 1


def test_set_valued_facts_compare_regardless_of_order_and_the_diff_names_old_and_new():
    row = {"rule": "C01", "bank_account": "6222"}
    a = facts.facts_of("C01", row, json.dumps({"bank_account": "6222", "payee_ids": ["B", "A"], "txn_ids": ["T1"]}))
    b = facts.facts_of("C01", row, json.dumps({"bank_account": "6222", "payee_ids": ["A", "B"], "txn_ids": ["T9"]}))
    assert a == b and facts.facts_hash("C01", a) == facts.facts_hash("C01", b)
    c = facts.facts_of("C01", row, json.dumps({"bank_account": "6222", "payee_ids": ["A", "B", "C"]}))
    assert facts.facts_diff(a, c) == [("payee_ids", ["A", "B"], ["A", "B", "C"])]
    assert facts.describe(facts.facts_diff(a, c)) == "领款人 payee_ids A、B → A、B、C"


def test_a_fact_only_in_a_dropped_column_is_refused():
    class Z95(Rule):
        """A rule that declares a helper column _complete drops."""
        code, name, severity, subject = "Z95", "x", "low", ("person_id",)
        stable_facts = ("person_id", "died_on")

        def find(self, ctx):
            return pl.DataFrame({"person_id": ["P1"], "died_on": ["2026-09-03"], "title": ["t"], "evidence": ["{}"]})

    with pytest.raises(ValueError, match="Z95: stable fact died_on"):
        _complete(Z95(), Z95().find(None), M)


def test_docs_list_every_rules_stable_facts():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "followup.md").read_text(encoding="utf-8")
    listed = {}
    for codes, names in re.findall(r"^\| ([A-Z]\d\d(?:, [A-Z]\d\d)*) \| (.+) \|$", text, re.M):
        for code in codes.split(", "):
            listed[code] = tuple(n.split(" (")[0].strip() for n in re.sub(r"\([^)]*\)", "", names).split(","))
    assert listed == {code: cls.stable_facts for code, cls in load_catalogue().items()}
