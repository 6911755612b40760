"""Relatives, custody and dishonesty: clean base tables, then K, C and D problems and near-misses.

``clean_tables`` gives the base district its household registry (relations of
every household and of every staff member), a few kin filings, valid custody
filings and settled dishonesty records: none of it fires. ``plant`` then adds
one problem of every K, C and D rule and their near-misses (filed relatives,
cousins, relatives working in another street, a valid custody filing, two cases
of one household paid into one account, neighbouring units 301 vs 302).
"""

from __future__ import annotations

from datetime import date, timedelta

from auditor.core.periods import month_bounds
from auditor.demo.district import District

STREET = "天山路街道"      # K plants
C_STREET = "仙霞新村街道"  # C plants
D_STREET = "虹桥街道"      # D plants


def _relate(d: District, person: str, relative: str, relation: str, source: str = "户籍") -> None:
    d.tables["relations"].append({"person_id": person, "relative_id": relative, "relation": relation,
                                  "source": source})


def _record(d: District, person: str, name: str, recorded: date, *, defrauded: int, recovered: int,
            reported: date | None, until: date | None = None) -> dict:
    row = {"record_id": f"SX{len(d.tables['dishonesty']) + 1:05d}", "person_id": person, "name": name,
           "reason": "虚报隐瞒家庭收入骗取低保金", "recorded_on": recorded, "restricted_until": until,
           "amount_defrauded": defrauded, "amount_recovered": recovered, "reported_on": reported,
           "unit": "长宁区民政局"}
    d.tables["dishonesty"].append(row)
    return row


def _custody(d: District, person: str, account: str, custodian: str, *, start: date, end: date | None = None,
             approved_by: str | None = "S0001", reason: str = "受助人年老行动不便") -> dict:
    row = {"filing_id": f"DG{len(d.tables['custody_filings']) + 1:05d}", "person_id": person,
           "bank_account": account, "custodian_id": custodian, "custodian_name": d.name(), "reason": reason,
           "start_date": start, "end_date": end, "approved_by": approved_by}
    d.tables["custody_filings"].append(row)
    return row


def _kin_filing(d: District, staff: dict, relative: str, relation: str) -> None:
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
            _relate(d, payees[m["case_id"]], m["person_id"], m["relation_to_payee"])
    for s in d.tables["staff"]:
        spouse, parent = d.new_person_id(), d.new_person_id(d.rng.randint(60, 85))
        _relate(d, s["person_id"], spouse, "spouse")
        _relate(d, parent, s["person_id"], "child", "申报")
        if s["role"] == "cadre":
            _kin_filing(d, s, spouse, "spouse")  # filed, and not assisted
    children = [m for m in d.tables["members"] if m["relation_to_payee"] == "child"][:8]
    cases = {c["case_id"]: c for c in d.tables["cases"]}
    for m in children:
        c = cases[m["case_id"]]
        _custody(d, c["payee_id"], c["bank_account"], m["person_id"], start=date(2025, 1, 1))
    for i in range(6):
        recorded = month_bounds(d.month)[0] - timedelta(days=400 + 30 * i)
        _record(d, d.new_person_id(), d.name(), recorded, defrauded=300000 + 1000 * i, recovered=300000 + 1000 * i,
                reported=recorded + timedelta(days=12), until=recorded + timedelta(days=365 * 3))


def _case(d: District, street: str, size: int = 1, **kw) -> dict:
    """A fresh case paid for M."""
    c = d.pick_case(street, size=size, **kw)
    d.pay(c, d.month)
    return c


def _member(d: District, case: dict, **changes) -> dict:
    row = d.members_of(case)[0]
    row.update(changes)
    return row


def plant(d: District) -> None:
    _plant_k(d)
    _plant_c(d)
    _plant_d(d)


def _plant_k(d: District) -> None:
    # K01: a cadre's mother is assisted in the cadre's street, not filed.
    cadre = d.new_staff(STREET, "cadre")
    c = _case(d, STREET, payee_age=78)
    _relate(d, cadre["person_id"], c["payee_id"], "parent")
    d.expect("K01", [cadre["staff_id"], c["payee_id"]], "村居干部之母在本街道受助，未备案")
    # near-misses: a filed sister; a cousin; a brother assisted in another street.
    cadre = d.new_staff(STREET, "cadre")
    c = _case(d, STREET)
    _relate(d, cadre["person_id"], c["payee_id"], "sibling")
    _kin_filing(d, cadre, c["payee_id"], "sibling")
    d.near_miss("K01", [cadre["staff_id"], c["payee_id"]], "已备案的近亲属")
    c = _case(d, STREET)
    _relate(d, c["payee_id"], cadre["person_id"], "cousin", "申报")
    d.near_miss("K01", [cadre["staff_id"], c["payee_id"]], "堂表兄弟姐妹不属近亲属")
    elsewhere = d.new_staff("新华路街道", "advisor")
    c = _case(d, STREET)
    _relate(d, elsewhere["person_id"], c["payee_id"], "sibling")
    d.near_miss("K01", [elsewhere["staff_id"], c["payee_id"]], "亲属在其他街道工作")

    # K02: the street's case worker handled her husband's case (filed, still must withdraw).
    handler = next(s for s in d.tables["staff"] if s["street"] == STREET and s["role"] == "case_worker")
    c = _case(d, STREET)
    _relate(d, handler["person_id"], c["payee_id"], "spouse")
    _kin_filing(d, handler, c["payee_id"], "spouse")
    d.expect("K02", [handler["staff_id"], c["case_id"]], "经办人经办其配偶的低保案件未回避")
    # near-miss: another case worker's filed father, handled by someone else; the handler's cousin.
    other = [s for s in d.tables["staff"] if s["street"] == STREET and s["role"] == "case_worker"][1]
    c = _case(d, STREET, payee_age=80)
    _relate(d, other["person_id"], c["payee_id"], "parent")
    _kin_filing(d, other, c["payee_id"], "parent")
    d.near_miss("K02", [other["staff_id"], c["case_id"]], "亲属案件由他人经办审批")
    c = _case(d, STREET)
    _relate(d, handler["person_id"], c["payee_id"], "cousin")
    d.near_miss("K02", [handler["staff_id"], c["case_id"]], "经办人的表亲不属近亲属")

    # K03: a member lives in a cadre's dwelling (written differently); a member uses an advisor's phone.
    cadre = d.new_staff(STREET, "cadre", address="上海市长宁区天山路 951 弄 3 号 301 室")
    c = _case(d, STREET)
    _member(d, c, address="天山路951弄3号301室")
    d.expect("K03", [cadre["staff_id"], c["payee_id"]], "受助人与村居干部同住一处（地址写法不同）")
    advisor = d.new_staff(STREET, "advisor")
    c = _case(d, STREET)
    _member(d, c, phone=advisor["phone"])
    d.expect("K03", [advisor["staff_id"], c["payee_id"]], "受助人登记电话为救助顾问本人电话")
    # near-miss: the neighbouring unit 302.
    cadre = d.new_staff(STREET, "cadre", address="上海市长宁区娄山关路 952 弄 7 号 301 室")
    c = _case(d, STREET)
    _member(d, c, address="娄山关路952弄7号302室")
    d.near_miss("K03", [cadre["staff_id"], c["payee_id"]], "隔壁单元 301 与 302 不是同一住址")

    # K04: one cadre, an unfiled sister, a shared dwelling and a shared phone: three cases.
    cadre = d.new_staff(STREET, "cadre", address="天山路953弄1号101室")
    sister = _case(d, STREET)
    _relate(d, cadre["person_id"], sister["payee_id"], "sibling")
    lodger = _case(d, STREET)
    _member(d, lodger, address="上海市长宁区天山路953弄1号101室")
    caller = _case(d, STREET)
    _member(d, caller, phone=cadre["phone"])
    d.expect("K01", [cadre["staff_id"], sister["payee_id"]], "村居干部之姐受助未备案")
    d.expect("K03", [cadre["staff_id"], lodger["payee_id"]], "与村居干部同住")
    d.expect("K03", [cadre["staff_id"], caller["payee_id"]], "使用村居干部电话")
    d.expect("K04", [cadre["staff_id"]], "村居干部关联三个在保案件")
    # near-miss: two linked cases only.
    cadre = d.new_staff(STREET, "cadre", address="遵义路954弄2号202室")
    sister = _case(d, STREET)
    _relate(d, sister["payee_id"], cadre["person_id"], "sibling")
    lodger = _case(d, STREET)
    _member(d, lodger, address="遵义路954弄2号202室")
    d.expect("K01", [cadre["staff_id"], sister["payee_id"]], "村居干部之兄受助未备案")
    d.expect("K03", [cadre["staff_id"], lodger["payee_id"]], "与村居干部同住")
    d.near_miss("K04", [cadre["staff_id"]], "只关联两个案件，未达阈值 3")


def _account(d: District, holder: str, name: str) -> str:
    acct = d.account()
    d.tables["accounts"].append({"bank_account": acct, "holder_id": holder, "holder_name": name})
    return acct


def _plant_c(d: District) -> None:
    m, (first, last) = d.month, month_bounds(d.month)
    # C01: two unrelated payees paid into one account (the second is also C02: a third party's account).
    a = d.pick_case(C_STREET)
    b = d.pick_case(C_STREET)
    d.pay(a, m)
    d.pay(b, m, account=a["bank_account"])
    d.expect("C01", [a["bank_account"]], "两名无关领款人的低保金打入同一账户")
    d.expect("C02", [b["payee_id"], a["bank_account"]], "低保金打入他人账户未备案")
    # near-miss: two cases of one household (spouses) paid into the husband's account.
    husband = d.pick_case(C_STREET)
    wife = d.pick_case(C_STREET, program="disability")
    d.tables["members"].append({"case_id": wife["case_id"], "person_id": husband["payee_id"], "name": d.name(),
                                "relation_to_payee": "spouse", "phone": None,
                                "address": d.members_of(wife)[0]["address"]})
    _relate(d, husband["payee_id"], wife["payee_id"], "spouse")
    d.pay(husband, m)
    d.pay(wife, m, account=husband["bank_account"])
    d.near_miss("C01", [husband["bank_account"]], "同一家庭两个案件（夫妻）共用一个账户")
    d.near_miss("C02", [wife["payee_id"], husband["bank_account"]], "开户人为本案成员（配偶）")

    # C02: paid into an unrelated person's account; near-miss: the account of the spouse in the case.
    c = d.pick_case(C_STREET)
    d.pay(c, m, account=_account(d, d.new_person_id(), d.name()))
    d.expect("C02", [c["payee_id"], d.tables["payments"][-1]["bank_account"]], "打入无关人员账户且无代管备案")
    c = d.pick_case(C_STREET, size=2)
    spouse = d.members_of(c)[1]["person_id"]
    acct = _account(d, spouse, d.members_of(c)[1]["name"])
    d.pay(c, m, account=acct)
    d.near_miss("C02", [c["payee_id"], acct], "开户人为同户配偶")
    # near-miss: a valid custody filing for a neighbour who holds the card.
    c = d.pick_case(C_STREET, payee_age=88)
    neighbour = d.new_person_id()
    acct = _account(d, neighbour, d.name())
    _custody(d, c["payee_id"], acct, neighbour, start=date(2026, 1, 1))
    d.pay(c, m, account=acct)
    d.near_miss("C02", [c["payee_id"], acct], "有效卡折代管备案")
    d.near_miss("C04", [c["payee_id"], acct], "有效卡折代管备案")

    # C03: a cadre is the filed custodian; a case worker is the account holder (filed too).
    cadre = d.new_staff(C_STREET, "cadre")
    c = _case(d, C_STREET, payee_age=90)
    _custody(d, c["payee_id"], c["bank_account"], cadre["person_id"], start=date(2026, 2, 1))
    d.expect("C03", [cadre["staff_id"], c["payee_id"]], "村居干部代管受助人银行卡")
    worker = d.new_staff(C_STREET, "case_worker")
    c = d.pick_case(C_STREET, payee_age=86)
    acct = _account(d, worker["person_id"], worker["name"])
    _custody(d, c["payee_id"], acct, worker["person_id"], start=date(2025, 6, 1))
    d.pay(c, m, account=acct)
    d.expect("C03", [worker["staff_id"], c["payee_id"]], "救助金打入经办人名下账户")
    # near-miss: the custodian left the post before M.
    former = d.new_staff(C_STREET, "cadre", active_to=first - timedelta(days=40))
    c = _case(d, C_STREET, payee_age=84)
    _custody(d, c["payee_id"], c["bank_account"], former["person_id"], start=date(2025, 1, 1))
    d.near_miss("C03", [former["staff_id"], c["payee_id"]], "代管人已离任")

    # C04: expired filing (card with the daughter in the case); filing never approved (third party).
    c = d.pick_case(C_STREET, size=3, payee_age=82)
    daughter = d.members_of(c)[2]
    acct = _account(d, daughter["person_id"], daughter["name"])
    _custody(d, c["payee_id"], acct, daughter["person_id"], start=date(2025, 1, 1), end=first - timedelta(days=1))
    d.pay(c, m, account=acct)
    d.expect("C04", [c["payee_id"], acct], "卡折代管备案已于上月末到期")
    c = d.pick_case(C_STREET, payee_age=83)
    keeper = d.new_person_id()
    acct = _account(d, keeper, d.name())
    _custody(d, c["payee_id"], acct, keeper, start=date(2026, 3, 1), approved_by=None)
    d.pay(c, m, account=acct)
    d.expect("C04", [c["payee_id"], acct], "卡折代管备案无审批人")
    # near-miss: an expired filing renewed by an approved one.
    c = d.pick_case(C_STREET, size=2, payee_age=81)
    spouse = d.members_of(c)[1]
    acct = _account(d, spouse["person_id"], spouse["name"])
    _custody(d, c["payee_id"], acct, spouse["person_id"], start=date(2024, 1, 1), end=date(2025, 12, 31))
    _custody(d, c["payee_id"], acct, spouse["person_id"], start=date(2026, 1, 1), end=last + timedelta(days=365))
    d.pay(c, m, account=acct)
    d.near_miss("C04", [c["payee_id"], acct], "过期备案已续办")


def _plant_d(d: District) -> None:
    first, last = month_bounds(d.month)
    # D01: an active restriction on a member of a case paid for M; near-miss: restriction ended.
    c = _case(d, D_STREET)
    member = d.members_of(c)[0]
    _record(d, c["payee_id"], member["name"], first - timedelta(days=200), defrauded=120000, recovered=120000,
            reported=first - timedelta(days=190))
    d.expect("D01", [c["payee_id"]], "失信限制期内仍领取低保")
    c = _case(d, D_STREET)
    _record(d, c["payee_id"], d.members_of(c)[0]["name"], first - timedelta(days=800), defrauded=50000,
            recovered=50000, reported=first - timedelta(days=790), until=first - timedelta(days=1))
    d.near_miss("D01", [c["payee_id"]], "失信限制已于上月末到期")
    # D02: 10000.00 of 12000.00 outstanding after 200 days; near-miss: 60 days, still within recovery_days.
    r = _record(d, d.new_person_id(), d.name(), last - timedelta(days=200), defrauded=1200000, recovered=200000,
                reported=last - timedelta(days=190), until=last + timedelta(days=900))
    d.expect("D02", [r["record_id"]], "骗取12000元仅追回2000元")
    r = _record(d, d.new_person_id(), d.name(), last - timedelta(days=60), defrauded=800000, recovered=0,
                reported=last - timedelta(days=55), until=last + timedelta(days=900))
    d.near_miss("D02", [r["record_id"]], "认定未满90天")
    # D03: not reported 100 days after; near-miss: reported on day 30.
    r = _record(d, d.new_person_id(), d.name(), last - timedelta(days=100), defrauded=90000, recovered=90000,
                reported=None, until=last + timedelta(days=900))
    d.expect("D03", [r["record_id"]], "认定100天未报送联席会议办公室")
    recorded = last - timedelta(days=70)
    r = _record(d, d.new_person_id(), d.name(), recorded, defrauded=90000, recovered=90000,
                reported=recorded + timedelta(days=30), until=last + timedelta(days=900))
    d.near_miss("D03", [r["record_id"]], "认定后第30天报送，未超时限")
