"""Relatives, custody and dishonesty: clean base tables and the row-by-row helpers of the K, C and D
plants (``checks/{relatives,custody,dishonesty}/<CODE>_plant.py``).

``clean_tables`` gives the base district its household registry (relations of
every household and of every staff member), a few kin filings, valid custody
filings and settled dishonesty records: none of it fires. The plants then add
each K, C and D rule's problems and near-misses (filed relatives, cousins,
relatives working in another street, a valid custody filing, two cases of one
household paid into one account, neighbouring units 301 vs 302).
"""

from __future__ import annotations

from datetime import date, timedelta

from auditor.core.periods import month_bounds
from auditor.demo.district import District

STREET = "天山路街道"      # K plants
C_STREET = "仙霞新村街道"  # C plants
D_STREET = "虹桥街道"      # D plants


def relate(d: District, person: str, relative: str, relation: str, source: str = "户籍") -> None:
    d.tables["relations"].append({"person_id": person, "relative_id": relative, "relation": relation,
                                  "source": source})


def dishonesty_record(d: District, person: str, name: str, recorded: date, *, defrauded: int, recovered: int,
            reported: date | None, until: date | None = None) -> dict:
    row = {"record_id": f"SX{len(d.tables['dishonesty']) + 1:05d}", "person_id": person, "name": name,
           "reason": "虚报隐瞒家庭收入骗取低保金", "recorded_on": recorded, "restricted_until": until,
           "amount_defrauded": defrauded, "amount_recovered": recovered, "reported_on": reported,
           "unit": "长宁区民政局"}
    d.tables["dishonesty"].append(row)
    return row


def custody_filing(d: District, person: str, account: str, custodian: str, *, start: date, end: date | None = None,
             approved_by: str | None = "S0001", reason: str = "受助人年老行动不便") -> dict:
    row = {"filing_id": f"DG{len(d.tables['custody_filings']) + 1:05d}", "person_id": person,
           "bank_account": account, "custodian_id": custodian, "custodian_name": d.name(), "reason": reason,
           "start_date": start, "end_date": end, "approved_by": approved_by}
    d.tables["custody_filings"].append(row)
    return row


def kin_filing(d: District, staff: dict, relative: str, relation: str) -> None:
    d.tables["kin_filings"].append({"filing_id": f"JS{len(d.tables['kin_filings']) + 1:05d}",
                                    "staff_id": staff["staff_id"], "relative_id": relative, "relation": relation,
                                    "filed_on": date(2025, 3, 1)})


def clean_tables(d: District) -> None:
    """Household and staff relations, kin filings, valid custody filings, settled dishonesty records."""
    for name in ("relations", "kin_filings", "custody_filings", "dishonesty"):
        d.tables.setdefault(name, [])
    payees = {c["case_id"]: c["payee_id"] for c in d.tables["cases"]}
    for m in d.tables["members"]:
        if m["relation_to_payee"] != "self":
            relate(d, payees[m["case_id"]], m["person_id"], m["relation_to_payee"])
    for s in d.tables["staff"]:
        spouse, parent = d.new_person_id(), d.new_person_id(d.rng.randint(60, 85))
        relate(d, s["person_id"], spouse, "spouse")
        relate(d, parent, s["person_id"], "child", "申报")
        if s["role"] == "cadre":
            kin_filing(d, s, spouse, "spouse")  # filed, and not assisted
    children = [m for m in d.tables["members"] if m["relation_to_payee"] == "child"][:8]
    cases = {c["case_id"]: c for c in d.tables["cases"]}
    for m in children:
        c = cases[m["case_id"]]
        custody_filing(d, c["payee_id"], c["bank_account"], m["person_id"], start=date(2025, 1, 1))
    for i in range(6):
        recorded = month_bounds(d.month)[0] - timedelta(days=400 + 30 * i)
        amount = 300000 + 1000 * i
        dishonesty_record(d, d.new_person_id(), d.name(), recorded, defrauded=amount, recovered=amount,
                reported=recorded + timedelta(days=12), until=recorded + timedelta(days=365 * 3))


def new_account(d: District, holder: str, name: str) -> str:
    acct = d.account()
    d.tables["accounts"].append({"bank_account": acct, "holder_id": holder, "holder_name": name})
    return acct


def edit_member(d: District, case: dict, **changes) -> dict:
    """Change the first member row of ``case``."""
    row = d.members_of(case)[0]
    row.update(changes)
    return row
