"""A clean synthetic district (长宁区): people, households, cases, staff, payments.

``District`` holds every table as a list of row dicts (a few thousand cases, so
plain Python is fine here; the scalable generator lives in ``benchmarks/``).
The clean district fires no rule: every instruction is paid on time to the
registered account, reviews are current, nobody is related to staff. Planters
(each rule's ``demo`` hook, ``checks/<family>/<CODE>_plant.py``, through
``auditor.demo.plants``) then add problems and near-misses and record the
planted truth with ``District.expect``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from auditor.core.periods import month_add
from auditor.engine.registry import finding_id

STREETS = {
    "华阳路街道": ["长宁路", "安化路", "华阳路", "万航渡路"],
    "江苏路街道": ["江苏路", "愚园路", "武夷路", "长宁支路"],
    "新华路街道": ["新华路", "番禺路", "法华镇路", "定西路"],
    "周家桥街道": ["天山路", "中山西路", "长宁路", "万都路"],
    "天山路街道": ["天山路", "娄山关路", "遵义路", "茅台路"],
    "仙霞新村街道": ["仙霞路", "威宁路", "虹古路", "茅台路"],
    "虹桥街道": ["虹桥路", "延安西路", "古北路", "伊犁路"],
    "程家桥街道": ["虹桥路", "程家桥路", "哈密路", "西郊路"],
    "北新泾街道": ["北渔路", "新泾路", "平塘路", "哈密路"],
    "新泾镇": ["福泉路", "剑河路", "淞虹路", "协和路"],
}
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华文玉兰红梅志强海燕小红建"
         "国国平春梅金凤淑珍凤英桂兰玉珍秀珍德明永红")
AMOUNTS = {"dibao": (80000, 149000), "tekun": (200000, 280000), "dibao_edge": (60000, 110000),
           "disability": (120000, 160000)}
PER_MEMBER = ("dibao", "tekun")  # AMOUNTS of these are per member: a case gets the amount times its size
# The demo's 救助标准 (fen per person per month, in force from January of M's year): example figures
# for the demo, not a district's published standard. Every clean 低保 case is approved at most the
# 低保 standard per member and every 特困 case at least the 特困 standard per member (rules S02/S03).
STANDARDS = {"dibao": 150000, "tekun": 200000}
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(birth: date, seq: int, region: str = "310105") -> str:
    """A valid GB 11643-1999 resident id."""
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    total = sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=False))
    return body + "10X98765432"[total % 11]


def yuan_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@dataclass
class District:
    month: str = "2026-10"
    seed: int = 20261001
    n_cases: int = 3000
    history: int = 3  # months of payment history before M
    rng: random.Random = field(init=False)
    tables: dict[str, list[dict]] = field(default_factory=dict)
    truth: list[dict] = field(default_factory=list)
    near_misses: list[dict] = field(default_factory=list)
    allocation_overrides: dict[tuple[str, str], str] = field(default_factory=dict)
    junk: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # raw bad rows for quarantine
    _used_ids: set[str] = field(default_factory=set)
    _seq: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        for name in ("cases", "members", "payments", "ledger", "allocations", "accounts", "staff"):
            self.tables[name] = []

    # ------------------------------------------------------------ people
    def new_person_id(self, age: int | None = None, on: date | None = None) -> str:
        on = on or date(int(self.month[:4]), int(self.month[5:7]), 1)
        age = age if age is not None else self.rng.randint(20, 85)
        while True:
            birth = date(on.year - age, 1, 1) + timedelta(days=self.rng.randint(0, 364))
            if birth.year != on.year - age:
                continue
            pid = resident_id(birth, self.rng.randint(0, 999))
            if pid not in self._used_ids:
                self._used_ids.add(pid)
                return pid

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.randint(1, 2)))

    def phone(self) -> str:
        self._seq += 1
        return f"13{self.rng.randint(0, 9)}{self._seq:08d}"

    def account(self) -> str:
        self._seq += 1
        return f"62220210{self._seq:011d}"

    def address(self, street: str) -> str:
        self._seq += 1
        road = self.rng.choice(STREETS[street])
        # (lane, number) is unique per call: two households never share a dwelling by accident
        lane, number, room = self._seq % 900 + 10, self._seq // 900 + 1, (self._seq % 6 + 1) * 100 + self._seq % 4 + 1
        return f"{road}{lane}弄{number}号{room}室"

    # ------------------------------------------------------------- cases
    def new_case(self, street: str, program: str = "dibao", *, size: int = 1, payee_age: int | None = None,
                 start_month: str | None = None, status: str = "active", pay: bool = True,
                 pay_until: str | None = None, amount: int | None = None, **overrides: Any) -> dict:
        """Add a case with members, account and (if ``pay``) clean payments up to ``pay_until`` (M)."""
        n = len(self.tables["cases"]) + 1
        community = f"{STREETS[street][n % 4]}居委会"
        payee = self.new_person_id(payee_age)
        lo, hi = AMOUNTS.get(program, (50000, 150000))
        amount = amount if amount is not None else self.rng.randrange(lo, hi, 100) * (
            size if program in PER_MEMBER else 1)
        start = start_month or month_add(self.month, -self.rng.randint(6, 60))
        staff = [s for s in self.tables["staff"] if s["street"] == street]
        approver = next((s for s in staff if s["role"] == "civil_affairs"), None)
        handler = next((s for s in staff if s["role"] == "case_worker"), None)
        reviewed = date(int(self.month[:4]), int(self.month[5:7]), 1) - timedelta(days=self.rng.randint(5, 60))
        case: dict[str, Any] = {
            "case_id": f"CN{self.month[:4]}-{n:05d}", "program": program, "payee_id": payee, "street": street,
            "community": community, "status": status, "start_month": start, "end_month": None,
            "monthly_amount": amount, "bank_account": self.account(),
            "approved_on": date(int(start[:4]), int(start[5:7]), 1) - timedelta(days=10),
            "approved_by": approver["staff_id"] if approver else None,
            "handled_by": handler["staff_id"] if handler else None,
            "review_cycle": "annual" if program == "tekun" else "semiannual",
            "last_reviewed_on": reviewed, "basis": "elderly" if program == "tekun" else None,
            "phase_out_start": None,
        } | overrides
        self.tables["cases"].append(case)
        address, phone = self.address(street), self.phone()
        members: list[tuple[str, str, str | None]] = [(payee, "self", phone)]
        for rel in ("spouse", "child", "child")[: size - 1]:
            members.append((self.new_person_id(self.rng.randint(3, 60) if rel == "child" else None), rel, None))
        for pid, rel, ph in members:
            self.tables["members"].append({"case_id": case["case_id"], "person_id": pid, "name": self.name(),
                                           "relation_to_payee": rel, "phone": ph, "address": address})
        self.tables["accounts"].append({"bank_account": case["bank_account"], "holder_id": payee,
                                        "holder_name": self.tables["members"][-len(members)]["name"]})
        if pay:
            for k in range(self.history, -1, -1):
                m = month_add(self.month, -k)
                if case["start_month"] <= m <= (pay_until or self.month):
                    self.pay(case, m)
        return case

    def pay(self, case: dict, month: str, *, amount: int | None = None, account: str | None = None,
            paid_on: date | None = None, instruct: bool = True, ledger: bool = True,
            status: str = "paid", small_amount: bool = False) -> None:
        """A clean instruction and its ledger row for ``case`` and ``month`` (overridable)."""
        amount = case["monthly_amount"] if amount is None else amount
        account = account or case["bank_account"]
        y, mo = int(month[:4]), int(month[5:7])
        paid_on = paid_on or date(y, mo, self.rng.randint(3, 9))
        n = len(self.tables["payments"]) + len(self.tables["ledger"]) + 1
        if instruct:
            self.tables["payments"].append({
                "payment_id": f"P{month.replace('-', '')}{n:07d}", "case_id": case["case_id"],
                "payee_id": case["payee_id"], "program": case["program"], "month": month, "amount": amount,
                "bank_account": account, "street": case["street"], "small_amount": small_amount})
        if ledger:
            self.tables["ledger"].append({
                "txn_id": f"T{month.replace('-', '')}{n:07d}",
                "case_id": case["case_id"] if n % 3 else None,  # the platform does not always carry it
                "payee_id": case["payee_id"], "program": case["program"], "month": month, "amount": amount,
                "bank_account": account, "paid_on": paid_on if status == "paid" else None,
                "street": case["street"], "status": status})

    def new_staff(self, street: str, role: str, person_id: str | None = None, **overrides: Any) -> dict:
        n = len(self.tables["staff"]) + 1
        row = {"staff_id": f"S{n:04d}", "person_id": person_id or self.new_person_id(self.rng.randint(25, 55)),
               "name": self.name(), "role": role, "street": street,
               "community": f"{STREETS[street][n % 4]}居委会", "phone": self.phone(),
               "address": self.address(street), "bank_account": self.account(),
               "active_from": date(2018, 1, 1), "active_to": None} | overrides
        self.tables["staff"].append(row)
        return row

    def members_of(self, case: dict) -> list[dict]:
        return [m for m in self.tables["members"] if m["case_id"] == case["case_id"]]

    # ------------------------------------------------------------- truth
    def expect(self, rule: str, subject: list[str | None], note: str) -> None:
        """Record a planted problem: ``rule`` must fire on ``subject``."""
        self.truth.append({"rule": rule, "finding_id": finding_id(rule, subject),
                           "subject": "|".join(s or "" for s in subject), "note": note})

    def near_miss(self, rule: str, subject: list[str | None], note: str) -> None:
        """Record a near-miss: ``rule`` must not fire on ``subject``."""
        self.near_misses.append({"rule": rule, "finding_id": finding_id(rule, subject),
                                 "subject": "|".join(s or "" for s in subject), "note": note})

    def pick_case(self, street: str | None = None, program: str = "dibao", size: int = 1, **kw: Any) -> dict:
        """A fresh case for one planted problem: clean history, nothing yet for month M."""
        return self.new_case(street or self.rng.choice(list(STREETS)), program, size=size,
                             pay_until=month_add(self.month, -1), **kw)


def build_base(month: str = "2026-10", n_cases: int = 3000, seed: int = 20261001) -> District:
    """Staff for every street, then ``n_cases`` clean cases spread over the streets (no relations yet)."""
    d = District(month=month, seed=seed, n_cases=n_cases)
    d.tables["standards"] = [{"program": program, "from_month": f"{month[:4]}-01", "amount": fen}
                             for program, fen in STANDARDS.items()]
    for street in STREETS:
        for role in ("civil_affairs", "civil_affairs", "case_worker", "case_worker", "cadre", "cadre", "advisor"):
            d.new_staff(street, role)
    programs = ["dibao"] * 70 + ["tekun"] * 12 + ["dibao_edge"] * 12 + ["disability"] * 6
    streets = list(STREETS)
    for i in range(n_cases):
        d.new_case(streets[i % len(streets)], d.rng.choice(programs), size=d.rng.choice((1, 1, 2, 3)))
    return d
