"""Plant E01–E12 problems and near-misses, with the shared-information tables they need.

Adds the department tables (deaths, public_payroll, vehicles, businesses,
real_estate, penalties, employment) and applications to the district, with
harmless background rows (people outside any case, periods that ended before
M, single properties, low incomes, applications decided in time) so the rules
are seen not to fire on ordinary data.
"""

from __future__ import annotations

from datetime import date, timedelta

from auditor.core.periods import month_add
from auditor.core.workdays import nth_workday_after
from auditor.demo.district import District, resident_id

SHARED = ("deaths", "public_payroll", "vehicles", "businesses", "real_estate", "penalties", "employment",
          "applications")


def plant(d: District) -> None:
    for name in SHARED:
        d.tables.setdefault(name, [])
    _background(d)
    _shared_information(d)
    _management(d)
    _applications(d)


def _row(d: District, table: str, **row) -> None:
    d.tables[table].append(row)


def _paid(d: District, street: str, program: str = "dibao", size: int = 1, **kw) -> dict:
    """A case with clean history that is also paid for M."""
    c = d.pick_case(street, program, size=size, **kw)
    d.pay(c, d.month)
    return c


def _member(d: District, case: dict, k: int = 0) -> str:
    return d.members_of(case)[k]["person_id"]


def _background(d: District) -> None:
    """Rows that must not fire: outsiders, ended periods, allowed assets, low incomes."""
    members = [m["person_id"] for m in d.tables["members"][:400]]
    for i in range(40):
        outsider = d.new_person_id()
        _row(d, "deaths", person_id=outsider, died_on=date(2026, 1 + i % 9, 1 + i % 27))
        _row(d, "public_payroll", person_id=d.new_person_id(), employer="区属事业单位",
             start_date=date(2010, 1, 1), end_date=None)
        _row(d, "vehicles", person_id=d.new_person_id(), plate=f"沪B{10000 + i}", vehicle_type="小型轿车",
             registered_on=date(2019, 5, 1), deregistered_on=None)
    for i, pid in enumerate(members[:60]):
        _row(d, "real_estate", person_id=pid, property_id=f"RE-BG-{i:04d}", area_sqm="45.6",
             registered_on=date(2005, 1, 1), deregistered_on=None)
    for i, pid in enumerate(members[60:100]):
        _row(d, "employment", person_id=pid, employer="社区公益岗", monthly_income=150000 + i * 100,
             start_date=date(2025, 6, 1), end_date=None)
    for pid in members[100:110]:
        _row(d, "public_payroll", person_id=pid, employer="街道临时聘用", start_date=date(2015, 1, 1),
             end_date=date(2019, 12, 31))
        _row(d, "penalties", person_id=pid, kind="imprisonment", start_date=date(2012, 3, 1),
             end_date=date(2014, 2, 28))


def _shared_information(d: District) -> None:
    m = d.month
    first = date(int(m[:4]), int(m[5:7]), 1)

    # E01: spouse died two months before M; near-miss: death during M.
    c = _paid(d, "华阳路街道", size=2)
    spouse = _member(d, c, 1)
    _row(d, "deaths", person_id=spouse, died_on=first - timedelta(days=47))
    d.expect("E01", [spouse], "配偶身故后仍按原户发放2个月")
    c = _paid(d, "江苏路街道")
    _row(d, "deaths", person_id=c["payee_id"], died_on=first + timedelta(days=2))
    d.near_miss("E01", [c["payee_id"]], "当月身故，当月待遇仍应发放")

    # E02: payroll open since 2024; near-miss: payroll ended the day before M.
    c = _paid(d, "新华路街道", size=3)
    child = _member(d, c, 1)
    _row(d, "public_payroll", person_id=child, employer="区卫生健康委", start_date=date(2024, 7, 1), end_date=None)
    d.expect("E02", [child], "家庭成员为财政供养人员")
    c = _paid(d, "新华路街道")
    _row(d, "public_payroll", person_id=c["payee_id"], employer="区教育局", start_date=date(2018, 9, 1),
         end_date=first - timedelta(days=1))
    d.near_miss("E02", [c["payee_id"]], "财政供养在审计月前一天结束")

    # E03: car; business role; two properties. Near-misses: wheelchair vehicle, one property.
    c = _paid(d, "周家桥街道")
    _row(d, "vehicles", person_id=c["payee_id"], plate="沪A8K123", vehicle_type="小型轿车",
         registered_on=date(2025, 3, 1), deregistered_on=None)
    d.expect("E03", [c["payee_id"]], "名下有小型轿车")
    c = _paid(d, "周家桥街道", "tekun")
    _row(d, "businesses", person_id=c["payee_id"], business_id="91310105MA1FL0001X", business_name="长宁某贸易有限公司",
         role="legal_rep", start_date=date(2023, 4, 1), end_date=None)
    d.expect("E03", [c["payee_id"]], "担任企业法定代表人")
    c = _paid(d, "天山路街道", size=2)
    owner = _member(d, c, 1)
    for k in range(2):
        _row(d, "real_estate", person_id=owner, property_id=f"RE-P-{k}", area_sqm="62.5",
             registered_on=date(2016 + k, 5, 1), deregistered_on=None)
    d.expect("E03", [owner], "名下不动产2处，超过1处")
    c = _paid(d, "天山路街道", "disability")
    _row(d, "vehicles", person_id=c["payee_id"], plate="沪C0001", vehicle_type="残疾人机动轮椅车",
         registered_on=date(2022, 1, 1), deregistered_on=None)
    d.near_miss("E03", [c["payee_id"]], "残疾人机动轮椅车不计入")
    c = _paid(d, "天山路街道")
    _row(d, "vehicles", person_id=c["payee_id"], plate="沪D0002", vehicle_type="小型轿车",
         registered_on=date(2015, 1, 1), deregistered_on=first - timedelta(days=1))
    d.near_miss("E03", [c["payee_id"]], "车辆在审计月前已注销")

    # E04: imprisoned since two months before M; near-miss: released during M; probation.
    c = _paid(d, "仙霞新村街道", size=2)
    inmate = _member(d, c, 1)
    _row(d, "penalties", person_id=inmate, kind="imprisonment", start_date=_first(month_add(m, -2)),
         end_date=date(first.year + 1, 7, 31))
    d.expect("E04", [inmate], "服刑期间仍随户发放3个月")
    c = _paid(d, "仙霞新村街道")
    _row(d, "penalties", person_id=c["payee_id"], kind="imprisonment", start_date=date(2024, 1, 1),
         end_date=first + timedelta(days=19))
    d.near_miss("E04", [c["payee_id"]], "审计月内刑满释放，未覆盖整月")
    c = _paid(d, "仙霞新村街道")
    _row(d, "penalties", person_id=c["payee_id"], kind="probation", start_date=date(2025, 1, 1), end_date=None)
    d.near_miss("E04", [c["payee_id"]], "缓刑不属于服刑")

    # E05: income at the floor; near-misses: one fen under; in its phase-out period.
    c = _paid(d, "虹桥街道", size=2)
    worker = _member(d, c, 1)
    _row(d, "employment", person_id=worker, employer="某物流公司", monthly_income=200000,
         start_date=_first(month_add(m, -7)), end_date=None)
    d.expect("E05", [worker], "家庭成员就业月收入2000元")
    c = _paid(d, "虹桥街道")
    _row(d, "employment", person_id=c["payee_id"], employer="某超市", monthly_income=199999,
         start_date=_first(month_add(m, -7)), end_date=None)
    d.near_miss("E05", [c["payee_id"]], "月收入1999.99元，低于2000元")
    c = _paid(d, "虹桥街道", phase_out_start=month_add(m, -3))
    _row(d, "employment", person_id=c["payee_id"], employer="某餐饮公司", monthly_income=320000,
         start_date=_first(month_add(m, -5)), end_date=None)
    d.near_miss("E05", [c["payee_id"]], "渐退期内的就业收入")
    d.near_miss("E10", [c["case_id"]], "渐退第3个月")


def _management(d: District) -> None:
    m = d.month
    first = date(int(m[:4]), int(m[5:7]), 1)

    # E06: a member of a 低保 case is also the payee of a paid 特困 case.
    c1 = _paid(d, "程家桥街道", size=2)
    c2 = _paid(d, "程家桥街道", "tekun")
    _add_member(d, c1, c2["payee_id"], "parent")
    d.expect("E06", [c2["payee_id"]], "同时享受低保和特困")
    # near-miss: 低保 payee also on temporary assistance (not exclusive)
    c1 = _paid(d, "程家桥街道")
    t = d.new_case("程家桥街道", "temporary", pay=False, start_month=m)
    _add_member(d, t, c1["payee_id"], "spouse")
    d.pay(t, m, amount=80000)
    d.near_miss("E06", [c1["payee_id"]], "低保与临时救助可以并存")

    # E07: quarterly review overdue; near-miss: annual review due exactly at month end.
    c = _paid(d, "北新泾街道", review_cycle="quarterly", last_reviewed_on=_first(month_add(m, -3)) + timedelta(days=14))
    d.expect("E07", [c["case_id"]], "季度核查逾期")
    c = _paid(d, "北新泾街道", review_cycle="annual", last_reviewed_on=_first(month_add(m, -11)) - timedelta(days=1))
    d.near_miss("E07", [c["case_id"]], "核查到期日恰为月末")

    # E08: terminated two months before M, still paid; suspended and paid; near-miss: end_month = M.
    c = _paid(d, "新泾镇", status="terminated", end_month=month_add(m, -2))
    d.expect("E08", [c["case_id"]], "终止后仍发放2个月")
    c = _paid(d, "新泾镇", status="suspended")
    d.expect("E08", [c["case_id"]], "暂停期间仍发放")
    c = _paid(d, "新泾镇", status="terminated", end_month=m)
    d.near_miss("E08", [c["case_id"]], "终止月份为审计月，当月仍应发放")

    # E09: 特困 minor turned 18 the day before M; near-miss: turns 18 on the first day of M.
    for born, expect in ((first - timedelta(days=1), True), (first, False)):
        c = d.new_case("华阳路街道", "tekun", pay=False, basis="minor")
        pid = _replace_payee(d, c, date(born.year - 18, born.month, born.day))
        for k in range(d.history, -1, -1):
            d.pay(c, month_add(m, -k))
        if expect:
            d.expect("E09", [c["case_id"]], f"领款人{pid}已于审计月前年满18周岁")
        else:
            d.near_miss("E09", [c["case_id"]], "审计月第一天年满18周岁")

    # E10: phase-out started 13 months before M; near-miss: exactly 12 months.
    c = _paid(d, "江苏路街道", phase_out_start=month_add(m, -13))
    d.expect("E10", [c["case_id"]], "渐退期超过12个月")
    c = _paid(d, "江苏路街道", phase_out_start=month_add(m, -12))
    d.near_miss("E10", [c["case_id"]], "渐退期恰满12个月")

    # E11: two small-amount payments 300 + 300; near-miss: 200 + 300 exactly the limit.
    for street, amounts, fire in (("周家桥街道", (30000, 30000), True), ("华阳路街道", (20000, 30000), False),
                                  ("新华路街道", (45000,), False)):
        c = d.new_case(street, "temporary", pay=False, start_month=m)
        for a in amounts:
            d.pay(c, m, amount=a, small_amount=True)
        if fire:
            d.expect("E11", [c["payee_id"]], "小金额先行救助拆分两笔共600元")
        else:
            d.near_miss("E11", [c["payee_id"]], "小金额先行救助合计未超过500元")


def _applications(d: District) -> None:
    m = d.month
    first = date(int(m[:4]), int(m[5:7]), 1)
    last = date(int(month_add(m, 1)[:4]), int(month_add(m, 1)[5:7]), 1) - timedelta(days=1)
    streets = sorted({c["street"] for c in d.tables["cases"]})
    n = 0

    def app(received: date, decided: date | None, special: bool = False, street: str | None = None) -> str:
        nonlocal n
        n += 1
        aid = f"SQ{received:%Y%m}{n:05d}"
        _row(d, "applications", application_id=aid, person_id=d.new_person_id(), program="dibao",
             street=street or streets[n % len(streets)], received_on=received, decided_on=decided,
             special=special, outcome="approved" if decided else None)
        return aid

    # background: decided within the limit, or pending with a deadline after M
    start = first - timedelta(days=120)
    for i in range(150):
        received = start + timedelta(days=i % 120)
        decided = nth_workday_after(received, 5 + i % 16)
        app(received, decided if decided <= last or i % 2 else None, special=i % 7 == 0)
    # E12: received 09-10, pending (deadline 10-14 across 中秋 and 国庆); decided 10-15, one day late.
    received = first - timedelta(days=21)
    deadline = nth_workday_after(received, 20)
    aid = app(received, None)
    d.expect("E12", [aid], f"受理后20个工作日（{deadline}）仍未审批")
    aid = app(received, deadline + timedelta(days=1))
    d.expect("E12", [aid], "超过期限一天审批")
    aid = app(received, deadline)
    d.near_miss("E12", [aid], "恰在第20个工作日（跨国庆假期）审批")
    aid = app(received, None, special=True)
    d.near_miss("E12", [aid], "特殊情形45个工作日，尚未到期")
    received = first - timedelta(days=1)
    if nth_workday_after(received, 20) <= last:  # no long holiday early in this M
        received = last - timedelta(days=5)
    aid = app(received, None)
    d.near_miss("E12", [aid], "期限（节假日不计入）在审计月之后，尚未到期")


def _first(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def _add_member(d: District, case: dict, person_id: str, relation: str) -> None:
    row = dict(d.members_of(case)[0])
    d.tables["members"].append(row | {"person_id": person_id, "name": d.name(), "relation_to_payee": relation,
                                      "phone": None})


def _replace_payee(d: District, case: dict, born: date) -> str:
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
