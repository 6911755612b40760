"""Scalable synthetic data drop for benchmarks: a district, a city or a province.

``python benchmarks/generate.py --scale city --out bench-data/city`` writes one
Parquet file per contract table (data-contract.md): cases, members (~1.8 per
case), payments and ledger for M and ``--history`` months before it,
allocations, accounts, staff, relations, kin_filings, custody_filings,
dishonesty, the shared-information tables, applications and standards (the demo's). Generation is
columnar (numpy + polars, no per-row Python), so a province takes minutes.

Parquet columns are typed: dates are ``Date``, amounts ``Decimal(14, 2)``
(exact), everything else text. The base population is clean (every
instruction paid on time to the registered account, reviews current, nobody
related to staff); ``plant`` then draws cases for each rule of the catalogue
and runs the rule's ``bench`` hook from the plant registry
(``checks/<family>/<CODE>_plant.py``), applying the changes it declares. Without
``--density`` each rule gets ``PLANTS_PER_RULE`` cases; ``--density 0.01`` plants
problems into about 1% of the cases, spread evenly over the rules (a realistic
finding load: ~5,000 findings at city scale, ~50,000 at province).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from auditor.demo.columnar import ColumnarPlanting, as_date, day_of, money, seq_text  # noqa: E402
from auditor.demo.district import STANDARDS  # noqa: E402
from auditor.demo.plants import load_plants  # noqa: E402

SCALES = {"tiny": 500, "district": 10_000, "city": 500_000, "province": 5_000_000, "national": 30_000_000}
IN_MEMORY_MAX = 6_000_000  # cases: a province takes ~13 GiB to generate; bigger drops are written in chunks
CHUNK_CASES = 2_000_000  # cases per chunk of a chunked drop (~5 GiB to generate)
# ids numbered per chunk that are not derived from the case, staff or payment numbers: suffixed with the chunk
CHUNK_SUFFIXED = {"kin_filings": ("filing_id",), "custody_filings": ("filing_id",), "dishonesty": ("record_id",),
                  "applications": ("application_id",), "vehicles": ("plate",), "businesses": ("business_id",),
                  "real_estate": ("property_id",)}
CASES_PER_STREET = 2_500
PLANTS_PER_RULE = 3
STAFF_ROLES = ("civil_affairs", "civil_affairs", "case_worker", "case_worker", "cadre", "cadre", "advisor")
PROGRAMS = {"dibao": (0.70, 800, 1490), "tekun": (0.12, 2010, 2800),
            "dibao_edge": (0.12, 600, 1100), "disability": (0.06, 1200, 1600)}  # share, yuan range
PER_MEMBER = ("dibao", "tekun")  # their yuan range is per member (within the demo's STANDARDS)
HOUSEHOLD = ([1, 2, 3, 4], [0.45, 0.35, 0.15, 0.05])  # members per case, mean ~1.8
REGIONS = np.array([310101, 310104, 310105, 310106, 310107, 310109, 310110, 310112, 310113, 310114,
                    310115, 310116, 310117, 310118, 310120, 310151, 320102, 320104, 320105, 320106,
                    320111, 320113, 320114, 320115, 320116, 320117, 320118, 330102, 330105, 330106,
                    330108, 330109, 330110, 330111, 330112, 330113, 330114, 340102, 340103, 340104],
                   dtype=np.int64)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华文玉红梅志海燕春金凤淑珍德永")
PLACES = list("东南西北中新华长安宁江河湖山海松青春和平阳光明兴福康泰嘉定浦虹桥城")
ROADS = list("长宁安化华阳万航江苏愚园武夷番禺定西天山中娄遵义茅台仙霞威虹古延伊犁")


def month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_text(mi: pl.Expr) -> pl.Expr:
    """Month index (year*12 + month-1) -> ``YYYY-MM``."""
    return pl.format("{}-{}", (mi // 12).cast(pl.String), (mi % 12 + 1).cast(pl.String).str.zfill(2))


def pick(values: list[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(values).gather(pl.Series(idx))


class Generator:
    """Builds every table of one synthetic drop; ``tables`` holds the results."""

    def __init__(self, n_cases: int, month: str, seed: int, history: int, out: Path,
                 prior: Generator | None = None) -> None:
        self.n, self.month, self.history, self.out = n_cases, month, history, out
        self.rows: dict[str, int] = {}
        self.mi = month_index(month)
        self.first = day_of(self.mi, 1)
        self.rng = np.random.default_rng(seed)
        self.id_counts = pl.DataFrame(schema={"r": pl.Int64, "b": pl.Int32, "used": pl.Int64})
        self.serial = 0
        self.tables: dict[str, pl.DataFrame] = {}
        # a later chunk of a chunked drop numbers on from the chunk before it (ids stay unique)
        self.chunk, self.case_base, self.street_base, self.staff_base, self.pay_base = 0, 0, 0, 0, 0
        if prior is not None:
            self.id_counts, self.serial, self.chunk = prior.id_counts, prior.serial, prior.chunk + 1
            self.case_base = prior.case_base + prior.n
            self.street_base = prior.street_base + prior.tables_streets
            self.staff_base = prior.staff_base + prior.tables_staff
            self.pay_base = prior.pay_base + prior.pay_count
        self.tables_streets = self.tables_staff = self.pay_count = 0

    # ------------------------------------------------------------- values
    def person_ids(self, ages: np.ndarray) -> pl.Series:
        """Unique valid GB 11643 ids for people aged ``ages`` years on the first day of M."""
        n = len(ages)
        birth = self.first - (np.asarray(ages) * 365.25).astype(np.int64) - self.rng.integers(0, 365, n)
        df = pl.DataFrame({"r": self.rng.integers(0, len(REGIONS), n), "b": birth.astype(np.int32)})
        df = (df.with_columns(k=pl.int_range(pl.len()).over("r", "b"))
              .join(self.id_counts, on=["r", "b"], how="left", maintain_order="left")
              .with_columns(seq=pl.col("k") + pl.col("used").fill_null(0)))
        self.id_counts = (pl.concat([self.id_counts, df.group_by("r", "b").agg(used=pl.len().cast(pl.Int64))])
                          .group_by("r", "b").agg(pl.col("used").sum()))
        if n and df["seq"].max() >= 1000:
            raise RuntimeError("more than 1000 people born on one day in one region")
        bd = df["b"].cast(pl.Date)
        ymd = (bd.dt.year().cast(pl.Int64) * 10000 + bd.dt.month().cast(pl.Int64) * 100
               + bd.dt.day().cast(pl.Int64)).to_numpy()
        body = REGIONS[df["r"].to_numpy()] * 10**11 + ymd * 1000 + df["seq"].to_numpy()
        total, rest = np.zeros(n, dtype=np.int64), body.copy()
        for w in reversed(ID_WEIGHTS):
            total += (rest % 10) * w
            rest //= 10
        return pl.Series(body).cast(pl.String) + pick(list("10X98765432"), total % 11)

    def people(self, n: int, lo: int = 18, hi: int = 80) -> pl.Series:
        return self.person_ids(self.rng.integers(lo, hi + 1, n))

    def names(self, n: int) -> pl.Series:
        r = self.rng
        two = pl.Series(r.random(n) < 0.6)
        g2 = pick(GIVEN, r.integers(0, len(GIVEN), n))
        return pl.select(pl.concat_str(pick(SURNAMES, r.integers(0, len(SURNAMES), n)),
                                       pick(GIVEN, r.integers(0, len(GIVEN), n)),
                                       pl.when(two).then(g2).otherwise(pl.lit("")))).to_series()

    def _serial(self, n: int) -> int:
        start = self.serial
        self.serial += n
        return start

    def phones(self, n: int) -> pl.Series:
        return seq_text("13", self._serial(n), n, 9)

    def accounts(self, n: int) -> pl.Series:
        return seq_text("6222021", self._serial(n), n, 12)

    def addresses(self, n: int) -> pl.Series:
        s = pl.Series(np.arange(self._serial(n), self.serial, dtype=np.int64))
        r = self.rng
        return pl.select(pl.format("{}{}路{}弄{}号{}室", pick(ROADS, r.integers(0, len(ROADS), n)),
                                   pick(ROADS, r.integers(0, len(ROADS), n)), s % 900 + 10,
                                   (s // 900) % 40 + 1, (s % 6 + 1) * 100 + s % 4 + 1)).to_series()

    def period(self, n: int, open_share: float) -> tuple[pl.Series, pl.Series]:
        """Random periods around M: start 100..4000 days before M, open or 30..2000 days long."""
        start = self.first - self.rng.integers(100, 4000, n)
        end = np.where(self.rng.random(n) < open_share, -1, start + self.rng.integers(30, 2000, n))
        return as_date(start), as_date(end)

    # ------------------------------------------------------------- base
    def build(self) -> None:
        streets = self.streets()
        staff = self.staff(streets)
        cases, members = self.cases(streets, staff)
        self.build_payments(cases)
        self.tables["staff"] = staff.drop("s")
        self.cases_frame, self.members_frame = cases, members
        self.build_relations(cases, members, staff)
        self.build_shared(members)
        self.build_applications(cases)
        self.tables["standards"] = pl.DataFrame({
            "program": list(STANDARDS), "from_month": f"{self.month[:4]}-01",
            "amount": pl.Series(list(STANDARDS.values())).cast(pl.Int64)}).with_columns(amount=money(pl.col("amount")))

    def streets(self) -> pl.DataFrame:
        k = max(10, self.n // CASES_PER_STREET) if self.n >= 10_000 else max(2, min(10, self.n // 50))
        self.tables_streets = k
        idx = np.arange(self.street_base, self.street_base + k)
        p = len(PLACES)
        return pl.DataFrame({"s": idx - self.street_base}).with_columns(street=pl.concat_str(
            pick(ROADS, (idx // p**2) % len(ROADS)), pick(PLACES, (idx // p) % p), pick(PLACES, idx % p),
            pl.lit("街道")))

    def staff(self, streets: pl.DataFrame) -> pl.DataFrame:
        n = streets.height * len(STAFF_ROLES)
        self.tables_staff = n
        return pl.DataFrame({
            "staff_id": seq_text("S", 1 + self.staff_base, n, 6), "person_id": self.people(n, 25, 55), "name": self.names(n),
            "role": np.tile(np.array(STAFF_ROLES), streets.height),
            "s": np.repeat(streets["s"].to_numpy(), len(STAFF_ROLES)),
        }).join(streets, on="s", maintain_order="left").with_columns(
            community=pl.col("street").str.slice(0, 2) + pl.lit("0居委会"),
            phone=self.phones(n), address=self.addresses(n), bank_account=self.accounts(n),
            active_from=pl.lit(date(2018, 1, 1)), active_to=pl.lit(None, pl.Date))

    def cases(self, streets: pl.DataFrame, staff: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        n, r = self.n, self.rng
        names = np.array(list(PROGRAMS))
        share = np.array([p[0] for p in PROGRAMS.values()])
        prog = r.choice(len(names), n, p=share / share.sum())
        lo = np.array([p[1] for p in PROGRAMS.values()])
        hi = np.array([p[2] for p in PROGRAMS.values()])
        u = r.random(n)
        status = np.where(u < 0.95, "active", np.where(u < 0.97, "suspended", "terminated"))
        tekun = names[prog] == "tekun"
        size = r.choice(HOUSEHOLD[0], n, p=HOUSEHOLD[1])
        approver = (staff.filter(pl.col("role") == "civil_affairs").group_by("s")
                    .agg(approved_by=pl.col("staff_id").min()))
        handler = (staff.filter(pl.col("role") == "case_worker").group_by("s")
                   .agg(handled_by=pl.col("staff_id").min()))
        cases = pl.DataFrame({
            "i": np.arange(n), "program": names[prog], "s": np.arange(n) % streets.height, "status": status,
            "start_mi": self.mi - r.integers(6, 61, n),
            "end_mi": np.where(status == "terminated", self.mi - r.integers(1, 4, n), -1),
            "fen": r.integers(lo[prog], hi[prog]) * 100 * np.where(np.isin(names[prog], PER_MEMBER), size, 1),
            "size": size,
            "payee_age": np.where(tekun, r.integers(60, 93, n), r.integers(20, 86, n)),
            "reviewed": self.first - r.integers(5, 61, n), "community": r.integers(0, 4, n),
        }).with_columns(
            case_id=seq_text("C", self.case_base, n, 8), end_mi=pl.when(pl.col("end_mi") >= 0).then(pl.col("end_mi")),
            bank_account=self.accounts(n), address=self.addresses(n), phone=self.phones(n),
        ).join(streets, on="s", maintain_order="left").join(approver, on="s", how="left", maintain_order="left") \
         .join(handler, on="s", how="left", maintain_order="left")

        rep = np.repeat(np.arange(n), size)
        pos = np.arange(len(rep)) - np.repeat(np.cumsum(size) - size, size)
        ages = np.where(pos == 0, cases["payee_age"].to_numpy()[rep],
                        np.where(pos == 1, r.integers(20, 86, len(rep)), r.integers(3, 41, len(rep))))
        members = pl.DataFrame({
            "i": rep, "pos": pos, "person_id": self.person_ids(ages), "name": self.names(len(rep)),
            "relation_to_payee": np.where(pos == 0, "self", np.where(pos == 1, "spouse", "child")),
        }).join(cases.select("i", "case_id", "phone", "address"), on="i", maintain_order="left").with_columns(
            phone=pl.when(pl.col("pos") == 0).then(pl.col("phone")))
        payees = members.filter(pl.col("pos") == 0).select("i", payee_id="person_id", payee_name="name")
        return cases.join(payees, on="i", maintain_order="left"), members

    def build_payments(self, cases: pl.DataFrame) -> None:
        """One instruction and one paid ledger row per case and month due, M-history .. M."""
        frames = []
        for k in range(self.history, -1, -1):
            m = self.mi - k
            due = cases.filter((pl.col("start_mi") <= m) & (pl.col("end_mi").is_null() | (pl.col("end_mi") >= m))
                               & ~((pl.col("status") == "suspended") & pl.lit(m == self.mi)))
            frames.append(due.select("i", "case_id", "payee_id", "program", "fen", "bank_account", "street",
                                     mi=pl.lit(m, pl.Int64),
                                     paid_on=pl.Series(day_of(m, 1) + self.rng.integers(2, 9, due.height))))
        rows = pl.concat(frames).with_row_index("n").with_columns(
            n=pl.col("n").cast(pl.Int64) + self.pay_base, status=pl.lit("paid"), small_amount=pl.lit(False))
        self.pay_rows = rows
        self.pay_count = rows.height

    def build_relations(self, cases: pl.DataFrame, members: pl.DataFrame, staff: pl.DataFrame) -> None:
        r = self.rng
        # household registry: payee -> spouse / child of every household
        fam = members.filter(pl.col("pos") > 0).join(
            members.filter(pl.col("pos") == 0).select("i", payee="person_id"), on="i", maintain_order="left")
        household = fam.select(person_id="payee", relative_id="person_id", relation="relation_to_payee",
                               source=pl.lit("户籍"))
        # staff families: a spouse and a parent each, outside the caseload
        k = staff.height
        spouses, parents = self.people(k, 25, 60), self.people(k, 50, 85)
        staff_rel = pl.concat([
            staff.select("person_id", relative_id=spouses, relation=pl.lit("spouse"), source=pl.lit("户籍")),
            staff.select("person_id", relative_id=parents, relation=pl.lit("parent"), source=pl.lit("户籍"))])
        self.tables["relations"] = pl.concat([household, staff_rel])
        # kin filings: some staff filed their (non-recipient) relatives
        filed = staff.select("staff_id", relative_id=spouses, relation=pl.lit("spouse")).sample(
            fraction=0.2, seed=int(r.integers(1 << 31)))
        self.tables["kin_filings"] = filed.with_columns(
            filing_id=seq_text("KF", 1, filed.height, 7),
            filed_on=as_date(self.first - r.integers(30, 2000, filed.height))).select(
            "filing_id", "staff_id", "relative_id", "relation", "filed_on")
        # custody filings: a child keeps the card of some elderly payees, approved and open
        kids = (members.filter(pl.col("relation_to_payee") == "child").unique("i", keep="first")
                .join(cases.select("i", "payee_id", "bank_account", "approved_by"), on="i"))
        kids = kids.sample(fraction=0.05, seed=int(r.integers(1 << 31))) if kids.height > 20 else kids.head(1)
        self.tables["custody_filings"] = kids.select(
            filing_id=seq_text("CF", 1, kids.height, 7), person_id="payee_id", bank_account="bank_account",
            custodian_id="person_id", custodian_name="name", reason=pl.lit("年老体弱"),
            start_date=as_date(self.first - r.integers(30, 1000, kids.height)), end_date=pl.lit(None, pl.Date),
            approved_by="approved_by")
        # dishonesty: outside people, recovered in full and reported in time
        k = max(3, self.n // 1000)
        rec = self.first - r.integers(200, 2000, k)
        fen = r.integers(10, 500, k) * 10000
        self.tables["dishonesty"] = pl.DataFrame({
            "record_id": seq_text("DR", 1, k, 7), "person_id": self.people(k), "name": self.names(k),
            "reason": "虚报收入骗取低保", "recorded_on": as_date(rec),
            "restricted_until": as_date(rec + 3 * 365), "fen": fen,
            "reported_on": as_date(rec + r.integers(1, 25, k)), "unit": "区民政局"}).select(
            pl.exclude("fen", "reported_on", "unit"), amount_defrauded=money(pl.col("fen")),
            amount_recovered=money(pl.col("fen")), reported_on="reported_on", unit="unit")

    def build_shared(self, members: pl.DataFrame) -> None:
        n, r = self.n, self.rng
        recipients = members["person_id"]

        def some_recipients(k: int) -> pl.Series:
            return recipients.sample(min(k, recipients.len()), seed=int(r.integers(1 << 31)))

        k = max(5, n // 50)
        self.tables["deaths"] = pl.DataFrame({"person_id": self.people(k, 40, 95),
                                              "died_on": as_date(self.first - r.integers(1, 1500, k))})
        k = max(5, n // 5)
        s, e = self.period(k, 0.7)
        self.tables["public_payroll"] = pl.DataFrame({
            "person_id": self.people(k, 22, 60), "employer": pl.Series(r.integers(1, 500, k)).cast(pl.String) + "号单位",
            "start_date": s, "end_date": e})
        # vehicles: outside people's cars; recipients only with exempt wheelchair vehicles
        k = max(5, n // 5)
        owners = pl.concat([self.people(k), some_recipients(max(2, n // 100))])
        s, e = self.period(owners.len(), 0.8)
        types = np.where(np.arange(owners.len()) < k, np.where(r.random(owners.len()) < 0.8, "小型轿车", "轻型货车"),
                         "残疾人机动轮椅车")
        self.tables["vehicles"] = pl.DataFrame({
            "person_id": owners, "plate": seq_text("沪A", 0, owners.len(), 7), "vehicle_type": types,
            "registered_on": s, "deregistered_on": e})
        k = max(5, n // 10)
        s, e = self.period(k, 0.7)
        self.tables["businesses"] = pl.DataFrame({
            "person_id": self.people(k), "business_id": seq_text("91310105MA", 0, k, 8),
            "business_name": pl.select(pl.format("{}商贸有限公司", pl.int_range(k))).to_series(),
            "role": np.where(r.random(k) < 0.6, "legal_rep", "shareholder"), "start_date": s, "end_date": e})
        # real estate: outside owners; a third of recipients own their one home
        owners = pl.concat([self.people(max(5, n * 2 // 5)), some_recipients(members.height // 3 + 1)])
        s, e = self.period(owners.len(), 0.9)
        self.tables["real_estate"] = pl.DataFrame({
            "person_id": owners, "property_id": seq_text("310105", 0, owners.len(), 12),
            "area_sqm": pl.Series(r.integers(20, 150, owners.len())).cast(pl.String),
            "registered_on": s, "deregistered_on": e})
        # penalties: outside people; recipients only on probation that ended before M
        k, kr = max(5, n // 100), max(2, n // 500)
        s, e = self.period(k, 0.3)
        ends = self.first - r.integers(30, 1000, kr)
        self.tables["penalties"] = pl.DataFrame({
            "person_id": pl.concat([self.people(k), some_recipients(kr)]),
            "kind": np.concatenate([np.where(r.random(k) < 0.5, "imprisonment", "probation"),
                                    np.full(kr, "probation")]),
            "start_date": pl.concat([s, as_date(ends - 365)]), "end_date": pl.concat([e, as_date(ends)])})
        # employment: outside people at any income; recipients below the income floor
        k = max(5, n * 3 // 10)
        workers = pl.concat([self.people(k), some_recipients(members.height // 10 + 1)])
        income = np.where(np.arange(workers.len()) < k, r.integers(2500, 20000, workers.len()),
                          r.integers(800, 1900, workers.len())) * 100
        s, e = self.period(workers.len(), 0.7)
        self.tables["employment"] = pl.DataFrame({
            "person_id": workers, "employer": pl.Series(r.integers(1, 5000, workers.len())).cast(pl.String) + "号企业",
            "fen": income, "start_date": s, "end_date": e}).select(
            "person_id", "employer", monthly_income=money(pl.col("fen")), start_date="start_date", end_date="end_date")

    def build_applications(self, cases: pl.DataFrame) -> None:
        """Applications of the last months, decided within a week (pending only if received late in M)."""
        r = self.rng
        k = max(5, self.n // 50)
        received = day_of(self.mi, 1) - r.integers(-25, 90, k)
        last = day_of(self.mi + 1, 1) - 1
        decided = received + r.integers(1, 8, k)
        decided = np.where(decided > last, -1, decided)
        streets = cases["street"].unique().sort()
        self.tables["applications"] = pl.DataFrame({
            "application_id": seq_text("A", 1, k, 8), "person_id": self.people(k),
            "program": np.where(r.random(k) < 0.8, "dibao", "temporary"),
            "street": streets.gather(pl.Series(r.integers(0, streets.len(), k))),
            "received_on": as_date(received), "decided_on": as_date(decided), "special": r.random(k) < 0.05,
            "outcome": np.where(decided < 0, "审核中", "批准")})

    # ------------------------------------------------------------- problems
    def plant(self, density: float | None = None) -> dict[str, list[str]]:
        """Plant problems per rule (its ``bench`` hook) into fully-paid active dibao cases:
        PLANTS_PER_RULE each, or ``density`` x cases spread over the rules (at least
        PLANTS_PER_RULE each); return the planted case ids per rule."""
        plants = load_plants()
        codes = list(plants)
        pool = self.cases_frame.filter(
            (pl.col("status") == "active") & (pl.col("program") == "dibao") & (pl.col("size") >= 2)
            & (pl.col("start_mi") <= self.mi - self.history))
        wanted = max(PLANTS_PER_RULE, round(density * self.n / len(codes))) if density else PLANTS_PER_RULE
        k = min(wanted, pool.height // (len(codes) + 4))
        if k == 0:
            raise ValueError("too few cases to plant problems")
        chosen = pool.sample(k * (len(codes) + 1), seed=int(self.rng.integers(1 << 31)), shuffle=True)
        b = ColumnarPlanting(self, pool, chosen, codes, k)
        for code, plant in plants.items():
            b.code = code
            plant.bench(b)
        t = self.tables

        pay = b.apply("pay", self.pay_rows)
        self.emit("payments", self._payments_table(b.apply("instructions", pay)))
        ledger = b.apply("ledger", pay, duplicates=False)
        alloc = self.allocations(ledger)  # duplicated payments are not allocated
        ledger = pl.concat([ledger, *b.duplicates("ledger", ledger)])
        self.emit("ledger", self._ledger_table(ledger))
        del pay, ledger, self.pay_rows
        alloc = b.apply("allocations", alloc)
        self.tables["allocations"] = alloc.select(
            "street", "program", month=month_text(pl.col("mi")), amount=money(pl.col("fen")),
            allocated_on=pl.date(pl.col("mi") // 12, pl.col("mi") % 12 + 1, 1))

        cases = b.apply("cases", self.cases_frame.with_columns(phase_out=pl.lit(None, pl.Int64), minor=pl.lit(False)))
        self.emit("cases", self._case_table(cases))
        del cases
        members = self.members_frame.select("case_id", "person_id", "name", "relation_to_payee", "phone", "address")
        self.emit("members", b.apply("members", members))
        holders = self.cases_frame.select("bank_account", holder_id="payee_id", holder_name="payee_name")
        staff = t["staff"]
        self.emit("accounts", b.apply("accounts", pl.concat(
            [holders, staff.select("bank_account", holder_id="person_id", holder_name="name")])))
        for name in b.unapplied():
            if name in t:
                t[name] = b.apply(name, t[name])
        if b.unapplied():
            raise ValueError(f"plants changed frames the generator does not have: {b.unapplied()}")
        return {code: g["case_id"].to_list() for code, g in b.groups.items()}

    # ------------------------------------------------------------- output frames
    def emit(self, name: str, frame: pl.DataFrame) -> None:
        """Write a finished table now (it leaves memory as soon as the caller drops it); a chunk of a
        chunked drop writes ``<name>.chunk<i>.parquet`` with its chunk-numbered ids suffixed."""
        if self.chunk or self.out.name.endswith(".chunks"):
            frame = frame.with_columns(pl.col(c) + f"-{self.chunk}" for c in CHUNK_SUFFIXED.get(name, ()))
            frame.write_parquet(self.out / f"{name}.chunk{self.chunk:03d}.parquet", statistics=True)
            self.rows[name] = frame.height
            self.tables.pop(name, None)
            return
        frame.write_parquet(self.out / f"{name}.parquet", statistics=True)
        self.rows[name] = frame.height
        self.tables.pop(name, None)

    def _payments_table(self, rows: pl.DataFrame) -> pl.DataFrame:
        return rows.select(payment_id=pl.concat_str(pl.lit("P"), pl.col("n").cast(pl.String).str.zfill(10)),
                           case_id="case_id", payee_id="payee_id", program="program", month=month_text(pl.col("mi")),
                           amount=money(pl.col("fen")), bank_account="bank_account", street="street",
                           small_amount="small_amount")

    def _ledger_table(self, rows: pl.DataFrame) -> pl.DataFrame:
        return rows.select(
            txn_id=pl.concat_str(pl.lit("T"), pl.col("n").cast(pl.String).str.zfill(10)),
            case_id=pl.when(pl.col("n") % 3 != 0).then(pl.col("case_id")),  # the platform does not always carry it
            payee_id="payee_id", program="program", month=month_text(pl.col("mi")), amount=money(pl.col("fen")),
            bank_account="bank_account",
            paid_on=pl.when(pl.col("status") == "paid").then(pl.col("paid_on").cast(pl.Int32).cast(pl.Date)),
            street="street", status="status")

    def allocations(self, ledger: pl.DataFrame) -> pl.DataFrame:
        paid = (ledger.filter(pl.col("status") == "paid").group_by("street", "program", "mi")
                .agg(fen=pl.col("fen").sum()).sort("street", "program", "mi"))
        head = pl.Series(self.rng.uniform(0.01, 0.03, paid.height))
        return paid.with_columns(fen=pl.col("fen") + (pl.col("fen") * head).cast(pl.Int64) // 100 * 100)

    def _case_table(self, cases: pl.DataFrame) -> pl.DataFrame:
        return cases.select(
            "case_id", "program", "payee_id", "street",
            community=pl.col("street").str.slice(0, 2) + pl.col("community").cast(pl.String) + pl.lit("居委会"),
            status="status", start_month=month_text(pl.col("start_mi")), end_month=month_text(pl.col("end_mi")),
            monthly_amount=money(pl.col("fen")), bank_account="bank_account",
            approved_on=pl.date(pl.col("start_mi") // 12, pl.col("start_mi") % 12 + 1, 1) - pl.duration(days=10),
            approved_by="approved_by", handled_by="handled_by",
            review_cycle=pl.when(pl.col("program") == "tekun").then(pl.lit("annual")).otherwise(pl.lit("semiannual")),
            last_reviewed_on=pl.col("reviewed").cast(pl.Int32).cast(pl.Date),
            basis=pl.when(pl.col("minor")).then(pl.lit("minor"))
            .when(pl.col("program") == "tekun").then(pl.lit("elderly")),
            phase_out_start=month_text(pl.col("phase_out")))


def _chunked(n: int, out: Path, month: str, seed: int, history: int, density: float | None,
             chunk: int) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Generate ``n`` cases ``chunk`` at a time (each chunk its own streets, staff and population, ids
    numbered on), each table's chunks written aside and then streamed into one Parquet file (polars
    ``sink_parquet``): memory stays that of one chunk."""
    parts = out / ".chunks"
    parts.mkdir(exist_ok=True)
    rows: dict[str, int] = {}
    planted: dict[str, list[str]] = {}
    g: Generator | None = None
    for i, start in enumerate(range(0, n, chunk)):
        g = Generator(min(chunk, n - start), month, seed + i, history, parts, prior=g)
        g.build()
        if i:
            g.tables.pop("standards")  # the same table in every chunk: written once
        for code, cases in g.plant(density).items():
            planted.setdefault(code, []).extend(cases)
        for name, frame in sorted(g.tables.items()):
            g.emit(name, frame)
        for name, count in g.rows.items():
            rows[name] = rows.get(name, 0) + count
        g.tables, g.cases_frame, g.members_frame = {}, pl.DataFrame(), pl.DataFrame()
        print(f"  chunk {i}: {g.n:,} cases", file=sys.stderr)
    for name in sorted(rows):
        files = sorted(parts.glob(f"{name}.chunk*.parquet"))
        schema = pl.read_parquet_schema(files[0])
        pl.concat([pl.scan_parquet(f).cast(schema) for f in files]).sink_parquet(out / f"{name}.parquet",
                                                                                  statistics=True)
        for f in files:
            f.unlink()
    parts.rmdir()
    return dict(sorted(rows.items())), planted


def generate(scale: str | int, out: str | Path, month: str = "2026-10", seed: int = 20261001,
             history: int = 3, density: float | None = None, chunk: int | None = None) -> dict:
    """Write a drop of ``scale`` (a name of SCALES or a case count) to ``out``; return a manifest. Over
    IN_MEMORY_MAX cases (or with ``chunk``) the drop is generated ``chunk`` cases at a time."""
    start = time.perf_counter()
    n = SCALES[scale] if isinstance(scale, str) else int(scale)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.parquet"):
        old.unlink()
    if n > IN_MEMORY_MAX or chunk:
        rows, planted = _chunked(n, out, month, seed, history, density, chunk or CHUNK_CASES)
    else:
        g = Generator(n, month, seed, history, out)
        g.build()
        planted = g.plant(density)
        for name, frame in sorted(g.tables.items()):
            g.emit(name, frame)
        rows = dict(sorted(g.rows.items()))
    manifest = {"scale": scale, "cases": n, "month": month, "seed": seed, "history": history, "density": density,
                "planted_cases": sum(len(v) for v in planted.values()), "rows": rows,
                "planted": planted, "seconds": round(time.perf_counter() - start, 2)}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Generate a synthetic Parquet data drop (data-contract.md).")
    p.add_argument("--scale", required=True, help=f"{' | '.join(SCALES)} or a number of cases")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--month", default="2026-10", help="audit month M (YYYY-MM)")
    p.add_argument("--seed", type=int, default=20261001)
    p.add_argument("--history", type=int, default=3, help="months of payments before M")
    p.add_argument("--chunk", type=int, default=None,
                   help=f"generate this many cases at a time (default: {CHUNK_CASES:,} above {IN_MEMORY_MAX:,} cases)")
    p.add_argument("--density", type=float, default=None,
                   help=f"share of cases planted with a problem, e.g. 0.01 (default: {PLANTS_PER_RULE} per rule)")
    args = p.parse_args(argv)
    scale = args.scale if args.scale in SCALES else int(args.scale)
    try:
        m = generate(scale, args.out, args.month, args.seed, args.history, args.density, args.chunk)
    except ValueError as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 2
    print(f"{m['cases']} cases, {sum(m['rows'].values())} rows, {m['planted_cases']} planted cases "
          f"in {m['seconds']}s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
