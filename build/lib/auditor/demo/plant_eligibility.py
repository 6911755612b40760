"""Row-by-row helpers of the E plants (``checks/eligibility/E<nn>_plant.py``).

``shared_tables`` adds the department tables (deaths, public_payroll, vehicles,
businesses, real_estate, penalties, employment) and applications to the
district, with harmless background rows (people outside any case, periods that
ended before M, single properties, low incomes) so the rules are seen not to
fire on ordinary data; the plants then add each rule's problems and near-misses.
"""

from __future__ import annotations

from datetime import date

from auditor.demo.district import District, resident_id

SHARED = ("deaths", "public_payroll", "vehicles", "businesses", "real_estate", "penalties", "employment",
          "applications")


def shared_tables(d: District) -> None:
    """The department tables and applications, with harmless background rows (before any plant)."""
    for name in SHARED:
        d.tables.setdefault(name, [])
    _background(d)


def add_row(d: District, table: str, **row) -> None:
    d.tables[table].append(row)


def paid_case(d: District, street: str, program: str = "dibao", size: int = 1, **kw) -> dict:
    """A case with clean history that is also paid for M."""
    c = d.pick_case(street, program, size=size, **kw)
    d.pay(c, d.month)
    return c


def member_id(d: District, case: dict, k: int = 0) -> str:
    return d.members_of(case)[k]["person_id"]


def _background(d: District) -> None:
    """Rows that must not fire: outsiders, ended periods, allowed assets, low incomes."""
    members = [m["person_id"] for m in d.tables["members"][:400]]
    for i in range(40):
        outsider = d.new_person_id()
        add_row(d, "deaths", person_id=outsider, died_on=date(2026, 1 + i % 9, 1 + i % 27))
        add_row(d, "public_payroll", person_id=d.new_person_id(), employer="区属事业单位",
             start_date=date(2010, 1, 1), end_date=None)
        add_row(d, "vehicles", person_id=d.new_person_id(), plate=f"沪B{10000 + i}", vehicle_type="小型轿车",
             registered_on=date(2019, 5, 1), deregistered_on=None)
    for i, pid in enumerate(members[:60]):
        add_row(d, "real_estate", person_id=pid, property_id=f"RE-BG-{i:04d}", area_sqm="45.6",
             registered_on=date(2005, 1, 1), deregistered_on=None)
    for i, pid in enumerate(members[60:100]):
        add_row(d, "employment", person_id=pid, employer="社区公益岗", monthly_income=150000 + i * 100,
             start_date=date(2025, 6, 1), end_date=None)
    for pid in members[100:110]:
        add_row(d, "public_payroll", person_id=pid, employer="街道临时聘用", start_date=date(2015, 1, 1),
             end_date=date(2019, 12, 31))
        add_row(d, "penalties", person_id=pid, kind="imprisonment", start_date=date(2012, 3, 1),
             end_date=date(2014, 2, 28))


def first_of(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def add_member(d: District, case: dict, person_id: str, relation: str) -> None:
    row = dict(d.members_of(case)[0])
    d.tables["members"].append(row | {"person_id": person_id, "name": d.name(), "relation_to_payee": relation,
                                      "phone": None})


def replace_payee(d: District, case: dict, born: date) -> str:
    """Give a case's payee a resident id with an exact birth date."""
    old = case["payee_id"]
    while True:
        pid = resident_id(born, d.rng.randint(0, 999))
        if pid not in d._used_ids:
            d._used_ids.add(pid)
            break
    case["payee_id"] = pid
    for row in d.tables["members"] + d.tables["accounts"]:
        for col in ("person_id", "holder_id"):
            if row.get(col) == old:
                row[col] = pid
    return pid
