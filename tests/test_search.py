"""Search, person and staff pages, and the access-log viewer (issue 20): every key kind is found, a person
named only in another person's evidence too; results and pages are masked per role; refusals are logged;
unmasking needs a reason and is logged with it; the log's filters and the chain check work. SQLite and
PostgreSQL (``db_url``), through the services and through the web pages."""

from __future__ import annotations

import json
import re
import stat
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from auditor import store
from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.followup.privacy import User
from auditor.ingest.loader import Drop
from auditor.jobs import people_index, snapshot
from auditor.jobs.people_index import INDEX_DIR, PARTS_FILE, ROW_GROUP, build_index, has_index
from auditor.services import accesslog as logsvc
from auditor.services import search as svc
from auditor.services.session import Refused, Session
from tests.followup_helpers import ACCOUNT, PHONE, PID_A, PID_B, finding, save
from tests.web_helpers import Clock, cheap_hashes, client, csrf_of, make_users, session_csrf, sign_in  # noqa: F401

PID_C = "310105197003034567"  # 江苏路街道, not bob's street
HIDDEN = "310105200001015678"  # named only in PID_A's finding's evidence, in no snapshot
STREET, OTHER = "华阳路街道", "江苏路街道"
USERS = {"alice": User("alice", "auditor"), "ivy": User("ivy", "inspector"), "ole": User("ole", "office"),
         "bob": User("bob", "street", STREET)}


def tables(month: str) -> dict[str, pl.DataFrame]:
    return {
        "cases": pl.DataFrame({"case_id": ["C1", "C2"], "program": ["dibao", "tekun"], "payee_id": [PID_A, PID_C],
                               "street": [STREET, OTHER], "status": ["active", "active"],
                               "start_month": ["2025-01", "2024-06"], "monthly_amount": [120000, 90000],
                               "bank_account": [ACCOUNT, "6222021000000009999"]}),
        "members": pl.DataFrame({"case_id": ["C1", "C2"], "person_id": [PID_A, PID_C], "name": ["张三", "李四"],
                                 "relation_to_payee": ["self", "self"], "phone": [PHONE, "13900000000"]}),
        "payments": pl.DataFrame({"payment_id": [f"P{month}"], "case_id": ["C1"], "payee_id": [PID_A],
                                  "program": ["dibao"], "month": [month], "amount": [120000],
                                  "bank_account": [ACCOUNT], "street": [STREET]}),
        "staff": pl.DataFrame({"staff_id": ["S0001"], "person_id": [PID_B], "name": ["王五"], "role": ["caseworker"],
                               "street": [STREET]}),
        "deaths": pl.DataFrame({"person_id": [PID_C], "died_on": [date(2026, 8, 1)]}),
    }


def snap(root: Path, run_id: int, month: str) -> Path:
    drop = Drop(Path("x"), tables(month), {}, pl.DataFrame({"table": [], "reason": []}))
    return snapshot.write_snapshot(root, run_id=run_id, month=month, profile=load_profile(None), drop=drop,
                                   inputs={})


@pytest.fixture
def world(db_url, tmp_path):
    """Two months of findings and snapshots; one user per role (alice, ivy, ole, bob of 华阳路街道)."""
    make_users(db_url)
    engine = store.connect(db_url)
    evidence = {"person_id": PID_A, "program": "dibao", "relative_id": HIDDEN, "paid": "1200.00"}
    for month in ("2026-09", "2026-10"):
        save(engine, month, finding(PID_A, evidence=evidence, month=month),
             finding(PID_C, street=OTHER, rule="R02", month=month) | {"case_id": "C2"},
             finding(PID_B, rule="R03", month=month) | {"staff_id": "S0001", "case_id": None})
    root = tmp_path / "snapshots"
    snap(root, 1, "2026-09")
    snap(root, 2, "2026-10")
    yield engine, root
    engine.dispose()


def as_(engine, name: str) -> Session:
    return Session(engine, USERS[name])


def log_rows(engine, action: str) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(store.access_log).where(store.access_log.c.action == action)
                                              .order_by(store.access_log.c.seq)).mappings()]


@pytest.mark.parametrize("query", [PID_A, PID_A.lower()[:-1] + PID_A[-1], "张三", ACCOUNT, PHONE, "C1"])
def test_search_finds_the_person_by_every_key_kind(world, query):
    engine, root = world
    result = svc.search(as_(engine, "ivy"), root, query)
    assert [p["token"] for p in result.people] == [svc.token_of(PID_A)]
    assert result.people[0]["person_id"] == "310105********1234"
    assert result.people[0]["months"] == ["2026-09", "2026-10"]
    assert {f["rule"] for f in result.findings} == {"R01"}
    assert PID_A not in json.dumps([result.people, result.findings], ensure_ascii=False)
    assert log_rows(engine, "search")[-1]["target"] == query


def test_search_by_staff_id_finds_the_staff_member_and_their_findings(world):
    engine, root = world
    result = svc.search(as_(engine, "alice"), root, "S0001")
    assert [st["staff_id"] for st in result.staff] == ["S0001"]
    assert result.staff[0]["person_id"] == "310105********3456"
    assert {f["rule"] for f in result.findings} == {"R03"}


def test_a_person_only_in_another_persons_evidence_is_found(world):
    engine, root = world
    result = svc.search(as_(engine, "ivy"), root, HIDDEN)
    assert [p["token"] for p in result.people] == [svc.token_of(HIDDEN)]
    assert result.people[0]["via"] == ["问题线索中的人员"] and result.people[0]["months"] == []
    assert [(f["rule"], f["roles"]) for f in result.findings] == [("R01", ["亲属"])]
    view = svc.person_view(as_(engine, "ivy"), root, svc.token_of(HIDDEN))
    assert [f["months"] for f in view.findings] == [["2026-09", "2026-10"]] and view.timeline == []


@pytest.mark.parametrize("who", ["ole", "bob"])
def test_office_and_street_may_not_search_or_read_the_log(world, who):
    engine, root = world
    with pytest.raises(Refused):
        svc.search(as_(engine, who), root, PID_A)
    with pytest.raises(Refused):
        logsvc.page_log(as_(engine, who), logsvc.LogFilter())
    with pytest.raises(Refused):
        logsvc.verify(as_(engine, who))
    assert [r["actor"] for r in log_rows(engine, "denied:search")] == [who]
    assert [r["actor"] for r in log_rows(engine, "denied:access_log.view")] == [who]
    assert logsvc.viewers(as_(engine, who), PID_A) == []


def test_person_page_findings_history_and_timeline(world):
    engine, root = world
    view = svc.person_view(as_(engine, "alice"), root, svc.token_of(PID_A))
    assert view.ident == "310105********1234" and view.names == ["张三"] and view.streets == [STREET]
    assert [(f["rule"], f["months"], f["status"]) for f in view.findings] == [("R01", ["2026-09", "2026-10"], "new")]
    tables_seen = {r["table"] for r in view.timeline}
    assert tables_seen == {"救助案件", "案件成员", "业务系统发放明细"}
    case = next(r for r in view.timeline if r["table"] == "救助案件")
    assert case["seen"] == "2026-09–2026-10" and case["other"] == "622202*********2011"
    assert "救助类型 低保" in case["info"]
    payments = sorted(r["when"] for r in view.timeline if r["table"] == "业务系统发放明细")
    assert payments == ["2026-09", "2026-10"]
    entry = log_rows(engine, "person.view")[-1]
    assert (entry["target"], entry["unmasked"]) == (PID_A, False)


def test_staff_page_posts_and_findings(world):
    engine, root = world
    view = svc.staff_view(as_(engine, "ivy"), root, svc.token_of("S0001"))
    assert view.ident == "S0001" and view.person_id == "310105********3456" and view.names == ["王五"]
    assert [p["staff_id"] for p in view.staff_posts] == ["S0001"]
    assert [(f["rule"], f["roles"]) for f in view.findings] == [("R03", ["当事人", "经办/审批工作人员"])]


def test_street_officer_sees_own_street_people_masked_and_is_refused_others(world):
    engine, root = world
    own = svc.person_view(as_(engine, "bob"), root, svc.token_of(PID_A))
    assert own.ident == "310105********1234" and not own.unmasked
    with pytest.raises(Refused):
        svc.person_view(as_(engine, "bob"), root, svc.token_of(PID_C))
    assert [(r["actor"], r["target"]) for r in log_rows(engine, "denied:person.view")] == [("bob", PID_C)]
    office = svc.person_view(as_(engine, "ole"), root, svc.token_of(PID_C))
    assert office.ident == "310105********4567" and [f["rule"] for f in office.findings] == ["R02"]
    assert {r["table"] for r in office.timeline} >= {"身故"}


def test_unmasking_needs_the_right_role_and_a_reason_and_is_logged_with_it(world):
    engine, root = world
    token = svc.token_of(PID_A)
    with pytest.raises(Refused):
        svc.person_view(as_(engine, "ole"), root, token, unmasked=True, reason="看看")
    with pytest.raises(AuditInputError) as blank:
        svc.person_view(as_(engine, "ivy"), root, token, unmasked=True, reason="  ")
    assert not isinstance(blank.value, Refused) and "事由" in str(blank.value)
    assert [r["actor"] for r in log_rows(engine, "denied:person.view.unmasked")] == ["ole", "ivy"]
    view = svc.person_view(as_(engine, "ivy"), root, token, unmasked=True, reason="纪检核查第3号线索")
    assert view.ident == PID_A and view.unmasked and view.reason == "纪检核查第3号线索"
    entry = log_rows(engine, "person.view")[-1]
    assert entry["unmasked"] and json.loads(entry["detail"]) == {"reason": "纪检核查第3号线索"}
    seen = logsvc.viewers(as_(engine, "alice"), PID_A)
    assert seen[0]["actor"] == "ivy" and seen[0]["unmasked"] and seen[0]["reason"] == "纪检核查第3号线索"


def test_tokens_round_trip_and_foreign_tokens_are_not_found(world):
    assert svc.id_of(svc.token_of(PID_A)) == PID_A and svc.id_of(svc.token_of("S1")) == "S1"
    assert PID_A not in svc.token_of(PID_A) and svc.token_of(PID_A) != svc.token_of(PID_B)
    for bad in ("", "abc", svc.token_of(PID_A)[:-2] + "AA", "!!!"):
        with pytest.raises(svc.NotFound):
            svc.id_of(bad)


def test_access_log_filters_paging_and_masking(world):
    engine, root = world
    ivy, alice = as_(engine, "ivy"), as_(engine, "alice")
    svc.person_view(ivy, root, svc.token_of(PID_A))
    svc.person_view(alice, root, svc.token_of(PID_C))
    fid = finding(PID_A)["finding_id"]
    from auditor.services.findings import show_finding
    show_finding(ivy, fid)
    rows, total = logsvc.page_log(alice, logsvc.LogFilter(person=PID_A))
    assert total == 1 and rows[0]["actor"] == "ivy" and rows[0]["target"] == "310105********1234"
    rows, _ = logsvc.page_log(alice, logsvc.LogFilter(user="alice", person=PID_C))
    assert [r["action"] for r in rows] == ["person.view"]
    rows, _ = logsvc.page_log(alice, logsvc.LogFilter(finding=fid))
    assert [(r["actor"], r["action"]) for r in rows] == [("ivy", "findings.show")]
    today = date.today()
    _, in_range = logsvc.page_log(alice, logsvc.LogFilter(date_from=today - timedelta(days=1),
                                                          date_to=today + timedelta(days=1)))
    _, before = logsvc.page_log(alice, logsvc.LogFilter(date_to=today - timedelta(days=2)))
    assert in_range > 5 and before == 0
    page1, total = logsvc.page_log(alice, logsvc.LogFilter(), size=3)
    page2, _ = logsvc.page_log(alice, logsvc.LogFilter(), size=3, page=2)
    assert len(page1) == len(page2) == 3 and page1[0]["seq"] > page1[-1]["seq"]
    assert page2[0]["seq"] <= page1[-1]["seq"]  # newest first (reading page 1 added one entry on top)
    upto = logsvc.latest_seq(alice)  # a reading anchored at its first page: pages neither overlap nor skip
    first, _ = logsvc.page_log(alice, logsvc.LogFilter(upto=upto), size=3)
    second, _ = logsvc.page_log(alice, logsvc.LogFilter(upto=upto), size=3, page=2)
    assert first[0]["seq"] == upto and [r["seq"] for r in first + second] == list(range(upto, upto - 6, -1))
    with pytest.raises(AuditInputError):
        logsvc.page_log(alice, logsvc.LogFilter(), unmasked=True, reason="")
    rows, _ = logsvc.page_log(alice, logsvc.LogFilter(person=PID_A), unmasked=True, reason="核查访问记录")
    assert rows[0]["target"] == PID_A
    viewed = log_rows(engine, "access_log.view")
    assert viewed[-1]["unmasked"] and json.loads(viewed[-1]["detail"])["reason"] == "核查访问记录"


def test_verify_reports_an_intact_chain_and_is_logged(world):
    engine, _ = world
    check = logsvc.verify(as_(engine, "ivy"))
    assert check.state == "intact" and check.message().startswith("访问日志完整")
    assert json.loads(log_rows(engine, "access_log.verify")[-1]["detail"])["state"] == "intact"


def test_the_index_is_sorted_in_small_row_groups_and_owner_only(world):
    _, root = world
    folder = root / "2" / INDEX_DIR
    assert sorted(p.name for p in folder.iterdir()) == ["part-00000.parquet", PARTS_FILE]  # a small drop: one part
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    index = pl.read_parquet(folder / "part-00000.parquet")
    assert index["key"].to_list() == sorted(index["key"].to_list())
    assert set(index["kind"]) == {"person", "case", "account", "name", "phone", "staff"}
    big = build_index({"members": pl.DataFrame({"case_id": [f"C{i}" for i in range(3 * ROW_GROUP)],
                                                "person_id": [f"{i:018d}" for i in range(3 * ROW_GROUP)],
                                                "name": ["甲"] * (3 * ROW_GROUP)})})
    assert big.filter(pl.col("kind") == "person").height == 3 * ROW_GROUP


def test_an_account_is_indexed_once_per_payee_and_table_and_every_payment_is_kept():
    """The account look-up of payments and ledger is deduplicated per (account, payee); the timeline rows are
    not (two payments to one account: two person rows, one account row per table)."""
    rows = {"payee_id": ["110101199003077777", "110101199003077777", "110101199003078888"],
            "case_id": ["C1", "C1", "C2"], "program": ["dibao"] * 3, "month": ["2026-10"] * 3,
            "amount": [100, 200, 300], "bank_account": ["62220001", "62220001", "62220001"], "street": ["甲街道"] * 3}
    ledger = pl.DataFrame(rows | {"txn_id": ["T1", "T2", "T3"], "status": ["paid"] * 3,
                                  "paid_on": [date(2026, 10, 5)] * 3})
    payments = pl.DataFrame(rows | {"payment_id": ["P1", "P2", "P3"]})
    index = build_index({"payments": payments, "ledger": ledger}, "2026-10")
    accounts = index.filter(pl.col("kind") == "account")
    assert sorted(accounts.select("table", "person_id").rows()) == [
        ("ledger", "110101199003077777"), ("ledger", "110101199003078888"),
        ("payments", "110101199003077777"), ("payments", "110101199003078888")]
    person = index.filter((pl.col("kind") == "person") & (pl.col("key") == "110101199003077777"))
    assert person.height == 4 and sorted(person["amount_fen"].to_list()) == [100, 100, 200, 200]


def test_the_pages_in_the_browser_session(world, db_url):
    """Through the web: the search page links to the person page by token, unmasking asks for a reason, the
    person page has the graph section, and the log page lists the view and verifies the chain."""
    engine, root = world
    from auditor.jobs import snapshot as snapmod
    c = client(db_url, Clock())
    c.app.state.profile = load_profile(None).model_copy(update={"snapshot_dir": str(root)})
    assert snapmod.snapshot_root(c.app.state.profile, db_url) == root
    assert sign_in(c, "ivy").status_code == 303
    form = c.get("/search")
    page = c.post("/search", data={"csrf": csrf_of(form.text), "q": HIDDEN})
    results = page.text.split('id="people"', 1)[1]
    assert page.status_code == 200 and HIDDEN not in results and "310105********5678" in results
    token = svc.token_of(HIDDEN)
    assert f'href="/people/{token}"' in page.text
    person = c.get(f"/people/{token}")
    assert person.status_code == 200 and '<section class="card" id="graph">' in person.text
    blank = c.post(f"/people/{token}/unmask", data={"csrf": session_csrf(c), "reason": " "})
    assert blank.status_code == 400 and "事由" in blank.text and HIDDEN not in blank.text
    shown = c.post(f"/people/{token}/unmask", data={"csrf": csrf_of(person.text), "reason": "核查亲属关系"})
    assert shown.status_code == 200 and HIDDEN in shown.text and "核查亲属关系" in shown.text
    log = c.get("/access-log", params={"person": token})
    assert log.status_code == 200 and "核查亲属关系" in log.text and HIDDEN not in log.text
    upto = int(re.search(r'name="upto" value="(\d+)"', log.text).group(1))  # unmasking keeps the reading's anchor
    shown_seqs = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', log.text)]
    assert shown_seqs and max(shown_seqs) <= upto
    verified = c.post("/access-log/verify", data={"csrf": csrf_of(log.text), "person": token})
    assert verified.status_code == 200 and "访问日志完整" in verified.text
    c.app.state.engine.dispose()


def test_a_large_drop_is_indexed_by_a_child_process(tmp_path, monkeypatch):
    """Above ``INLINE_ROWS`` the run does not wait for the index: a detached child writes it, owner-only,
    in several parts when the drop has more index rows than ``PART_ROWS`` (here: a few)."""
    import time

    monkeypatch.setattr(snapshot, "INLINE_ROWS", 0)
    monkeypatch.setattr(people_index, "PART_ROWS", 4)
    monkeypatch.setattr(people_index, "CHUNK_ROWS", 1)
    folder = snap(tmp_path / "snapshots", 7, "2026-10")
    deadline = time.monotonic() + 120
    while not has_index(folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    index = people_index.open_index(folder)
    assert index is not None and len(index.parts) > 2
    assert stat.S_IMODE((folder / INDEX_DIR).stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in (folder / INDEX_DIR).iterdir())
    whole = pl.concat([pl.read_parquet(p) for p in index.parts])
    assert whole.equals(build_index(tables("2026-10"), "2026-10"))
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def drop_of(n: int) -> dict[str, pl.DataFrame]:
    """A drop of ``n`` cases: members with shared names and phones, two months of payments from accounts
    that repeat (one account for every 7th payee), staff, relations and deaths."""
    i = pl.col("i")
    pid = pl.format("3101051980{}", i.cast(pl.String).str.zfill(8))
    account = pl.format("6222{}", (i % (n // 7 + 1)).cast(pl.String).str.zfill(12))
    rows = pl.DataFrame({"i": range(n)})
    return {
        "cases": rows.select(case_id=pl.format("C{}", i), program=pl.lit("dibao"), payee_id=pid,
                             street=pl.when(i % 3 == 0).then(pl.lit(STREET)).otherwise(pl.lit(OTHER)),
                             status=pl.lit("active"), start_month=pl.lit("2025-01"),
                             monthly_amount=i * 100 + 50_000, bank_account=account),
        "members": rows.select(case_id=pl.format("C{}", i), person_id=pid, name=pl.format("张{}", i % 97),
                               relation_to_payee=pl.lit("self"),
                               phone=pl.format("139{}", (i % 501).cast(pl.String).str.zfill(8))),
        "payments": pl.concat([rows.select(payment_id=pl.format("P{}-{}", pl.lit(m), i), case_id=pl.format("C{}", i),
                                           payee_id=pid, program=pl.lit("dibao"), month=pl.lit(m), amount=i + 1,
                                           bank_account=account, street=pl.lit(STREET))
                               for m in ("2026-09", "2026-10", "2026-10")]),
        "staff": pl.DataFrame({"staff_id": ["S0001", "S0002"], "person_id": [PID_B, PID_A], "name": ["王五", "张三"],
                               "role": ["caseworker", "approver"], "street": [STREET, OTHER]}),
        "relations": rows.select(person_id=pid, relative_id=pid.shift(1), relation=pl.lit("spouse")),
        "deaths": pl.DataFrame({"person_id": [PID_C], "died_on": [date(2026, 8, 1)]}),
    }


def test_a_partitioned_index_finds_what_one_part_finds(tmp_path):
    """Built in many parts from files read a few rows at a time, the index is the one-part index cut into
    key ranges: the parts in order are the same rows in the same order, every key lies in its part's range,
    and a look-up of every kind of key finds the same rows."""
    drop = drop_of(3000)
    files = tmp_path / "tables"
    files.mkdir()
    for name, frame in drop.items():
        frame.write_parquet(files / f"{name}.parquet", row_group_size=500)
    one, many = tmp_path / "one" / INDEX_DIR, tmp_path / "many" / INDEX_DIR
    assert people_index.write_index(drop, one, "2026-10") == 1
    parts = people_index.write_index({n: files / f"{n}.parquet" for n in drop}, many, "2026-10",
                                     part_rows=2000, chunk_rows=700)
    assert parts > 5
    index = people_index.open_index(many.parent)
    assert index is not None and len(index.parts) == parts and index.bounds == sorted(index.bounds)
    frames = [pl.read_parquet(p) for p in index.parts]
    whole = build_index(drop, "2026-10")
    assert pl.concat(frames).equals(whole) and pl.read_parquet(one / "part-00000.parquet").equals(whole)
    for k, frame in enumerate(frames):
        assert frame.height and frame["key"].is_sorted()
        assert k == 0 or frame["key"].min() >= index.bounds[k - 1]
        assert k == len(frames) - 1 or frame["key"].max() < index.bounds[k]
    per_payee = whole.filter(pl.col("kind") == "account").group_by("key", "person_id").len()["len"]
    assert per_payee.min() == per_payee.max() == 2  # the case's, and the month's payments once (of two rows)
    assert whole.filter((pl.col("table") == "payments") & (pl.col("kind") == "person"))["when"].unique().to_list() == ["2026-10"]
    keys = ["310105198000000042", "张5", "13900000007", "C2999", "S0002", "6222000000000001", "C1", "nobody"]
    for ks in ([k] for k in keys):
        a = people_index.lookup({"m": one.parent}, ks)
        b = people_index.lookup({"m": many.parent}, ks)
        assert a.equals(b) and (a.height > 0) == (ks[0] != "nobody"), ks
    both = people_index.lookup({"m": many.parent, "n": one.parent}, keys)
    assert both.sort("month", maintain_order=True).equals(
        pl.concat([people_index.lookup({"m": many.parent}, keys), people_index.lookup({"n": one.parent}, keys)]))


def test_a_snapshot_indexed_before_the_parts_is_still_read(tmp_path):
    """A snapshot of an earlier version holds one sorted ``index.parquet``: pages read it as one part."""
    folder = tmp_path / "5"
    folder.mkdir()
    build_index(tables("2026-10"), "2026-10").write_parquet(folder / people_index.LEGACY_FILE)
    assert has_index(folder)
    rows = people_index.lookup({"2026-10": folder}, [PID_A, "S0001"])
    assert set(rows["kind"]) == {"person", "staff"} and set(rows["month"]) == {"2026-10"}


def test_the_finding_page_links_to_the_people_it_names(world, db_url):
    """An inspector's finding page links, masked and by token, to the page of everyone the finding names
    (its people index: the payee and a relative named only in its evidence); a street officer, who may not
    search people, gets no such links."""
    engine, _ = world
    fid = finding(PID_A)["finding_id"]
    c = client(db_url, Clock())
    assert sign_in(c, "ivy").status_code == 303
    page = c.get(f"/findings/{fid}")
    links = page.text.split('id="people"', 1)[1].split("</p>", 1)[0]
    assert page.status_code == 200 and PID_A not in page.text and HIDDEN not in page.text
    assert f'href="/people/{svc.token_of(PID_A)}"' in links and f'href="/people/{svc.token_of(HIDDEN)}"' in links
    assert "310105********5678" in links
    assert c.get(f"/people/{svc.token_of(HIDDEN)}").status_code == 200  # the link leads to a page
    c.app.state.engine.dispose()
    street = client(db_url, Clock())
    assert sign_in(street, "bob").status_code == 303
    own = street.get(f"/findings/{fid}")
    assert own.status_code == 200 and 'id="people"' not in own.text
    street.app.state.engine.dispose()
