"""The office dashboard: its figures against a hand-built store (what counts and what must not: another month,
another year, another street, a second R0x finding of the same payee), the street officer's own street only,
refusals logged, every drill-down link opening a worklist of exactly the figure's count, and the dishonesty
list produced from the dashboard by the roles that publish. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from urllib.parse import unquote

import polars as pl
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from starlette.testclient import TestClient

from auditor import store
from auditor.core.config import load_profile
from auditor.followup import recurrence, workflow
from auditor.followup.privacy import User
from auditor.jobs.snapshot import snapshot_root
from auditor.services.dashboard import dashboard
from auditor.services.session import Refused, Session
from auditor.web.app import create_app
from tests.followup_helpers import finding as make
from tests.followup_helpers import frame
from tests.rulecases import person, write_case
from tests.web_helpers import STREET, Clock, cheap_hashes, client, make_users, session_csrf, sign_in  # noqa: F401

OTHER = "江苏路街道"
P = {k: f"3101051990010{i:04d}" + "1" for i, k in enumerate("ABCDEFG")}  # 18 characters, never resolved
TODAY = date.today()


def finding(key: str, **kw: object) -> dict:
    return make(P[key], **kw)  # type: ignore[arg-type]


A = finding("A", rule="R01", amount=120000)  # 华阳路, Sep and Oct; assigned, overdue
D = finding("A", rule="R03", amount=30000)  # the same payee and program: at risk counts the larger once
B = finding("B", rule="R02", amount=5000, street=OTHER)  # confirmed, 30.00 recovered
E = finding("C", rule="K01", amount=999)  # not reconciliation money; opened 45 days ago
H = finding("D", rule="R01", amount=700, street=None)  # 区级
F = finding("E", rule="R01", amount=4000)  # December of the year before: not this year
G = finding("F", rule="R01", amount=8000, street=OTHER)  # November: after the month
MONEY = {"instructed": "1000.10", "paid": "1000.20", "matched": "900.05", "at_risk": "1250.00"}


def run(engine, month: str, *rows: dict, money: dict | None = None) -> int:
    summary = {"month": month} | ({"money": money} if money else {})
    return recurrence.save_run(engine, month=month, profile="changning", data_dir="x",
                               started_at=datetime.now(UTC), frame=frame(*(r | {"month": month} for r in rows)),
                               summary=summary)


def build(db_url: str) -> None:
    engine = store.connect(db_url)
    run(engine, "2025-12", F)
    run(engine, "2026-09", A, money={**MONEY, "instructed": "1.00"})  # replaced by the rerun below
    run(engine, "2026-09", A, money=MONEY)
    run(engine, "2026-10", A, D, B, E, H, money={**MONEY, "matched": "800.00"})
    run(engine, "2026-11", G)
    workflow.assign(engine, A["finding_id"], street=STREET, person="王五", due=TODAY - timedelta(days=5), actor="t")
    workflow.assign(engine, B["finding_id"], street=OTHER, person="赵六", due=TODAY + timedelta(days=5), actor="t")
    workflow.close(engine, B["finding_id"], "confirmed", actor="t", reason="查实", recovered_fen=3000)
    with engine.begin() as conn:
        conn.execute(update(store.events).where(store.events.c.finding_id == E["finding_id"],
                                                store.events.c.action == "created")
                     .values(at=datetime.now(UTC) - timedelta(days=45)))
    engine.dispose()


def figures(db_url: str, user: User, **kw: object):
    engine = store.connect(db_url)
    try:
        return dashboard(Session(engine, user), "2026-10", **kw)  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_figures_of_the_month_and_the_year_to_date(db_url):
    build(db_url)
    d = figures(db_url, User("ole", "office"))
    month, ytd = d.periods
    assert (month.month_from, month.month_to, ytd.month_from, ytd.month_to) == ("2026-10",) * 2 + ("2026-01", "2026-10")
    assert month.findings.count == 5 and ytd.findings.count == 5  # not F (2025) nor G (November)
    assert (month.at_risk.amount_fen, month.at_risk.count) == (120000 + 5000 + 700, 4)  # A and D counted once
    assert (ytd.at_risk.amount_fen, ytd.at_risk.amount) == (120000 + 125700, "2457.00")
    assert month.reconciled == {"instructed": 100010, "paid": 100020, "matched": 80000}
    assert ytd.reconciled == {"instructed": 200020, "paid": 200040, "matched": 170005} and ytd.runs == 2
    assert {f.label: f.count for f in month.by_street} == {STREET: 3, OTHER: 1, "区级": 1}
    assert {f.label.split()[0]: f.count for f in month.by_rule} == {"R01": 2, "R02": 1, "R03": 1, "K01": 1}
    assert {f.label: f.count for f in month.statuses} == {"新发现": 3, "已交办": 1, "整改中": 0, "已整改": 0,
                                                          "查实违规": 1, "排除（线索不实）": 0}
    assert (month.open.count, month.overdue.count) == (4, 1)
    assert [f.count for f in month.ageing] == [3, 1, 0, 0]  # E was opened 45 days ago
    assert (month.confirmed.count, month.confirmed.amount, month.recovered) == (1, "50.00", "30.00")
    assert [t.findings for t in d.trend[-3:]] == [0, 1, 5] and d.trend[-1].new == 4  # A recurred
    assert [t.at_risk_fen for t in d.trend[-2:]] == [120000, 125700] and len(d.trend) == 12
    cards = {line.row.street: line.row for line in d.scorecard}
    assert cards[STREET].total == 4 and cards[STREET].month_findings == 3  # F counts (first seen before)
    assert cards[OTHER].confirmed == 1 and cards[OTHER].recovered == "30.00" and cards[OTHER].total == 1
    assert "得分 = 40 × 结案率" in d.formula


def test_a_street_officer_gets_their_street_only_and_another_is_refused_and_logged(db_url):
    build(db_url)
    bob = User("bob", "street", STREET)
    d = figures(db_url, bob)
    month, ytd = d.periods
    assert d.street == STREET and month.findings.count == 3 and ytd.findings.count == 3
    assert month.at_risk.amount_fen == 120000 and month.reconciled is None  # no district money for a street
    assert [f.label for f in month.by_street] == [STREET]
    assert [line.row.street for line in d.scorecard] == [STREET]
    assert all(f"street={STREET}" in unquote(f.href) for f in (month.findings, *month.statuses, *month.ageing))
    with pytest.raises(Refused):
        figures(db_url, bob, street=OTHER)
    engine = store.connect(db_url)
    with engine.connect() as conn:
        last = conn.execute(select(store.access_log.c.actor, store.access_log.c.action)
                            .order_by(store.access_log.c.seq.desc()).limit(1)).one()
    engine.dispose()
    assert tuple(last) == ("bob", "denied:dashboard")


def test_an_auditor_may_look_at_one_street(db_url):
    build(db_url)
    d = figures(db_url, User("alice", "auditor"), street=OTHER)
    assert d.periods[0].findings.count == 1 and d.periods[0].reconciled is None
    assert d.periods[0].confirmed.count == 1


LINK = re.compile(r'<a href="(/findings\?[^"]*)"[^>]*>\s*(\d+)\s*</a>')
CHART_LINK = re.compile(r'<a href="(/findings\?[^"]*)" class="chart-link" aria-label="[^"：]*：(?:[^"\d]*)(\d+)"')
TOTAL = re.compile(r"共 (\d+) 条")


def worklist_total(c, href: str) -> int:
    r = c.get(unescape(href))
    assert r.status_code == 200, (href, r.text[:300])
    found = TOTAL.search(r.text)
    assert found, href
    return int(found.group(1))


@pytest.mark.parametrize("who", ["ole", "bob"])
def test_every_count_on_the_page_opens_a_worklist_of_that_count(db_url, who):
    build(db_url)
    make_users(db_url)
    c = client(db_url, Clock())
    assert sign_in(c, who).status_code == 303
    page = c.get("/dashboard?month=2026-10")
    assert page.status_code == 200 and "数据看板 · 2026-10" in page.text
    links = LINK.findall(page.text) + CHART_LINK.findall(page.text)
    assert len(links) > 40
    checked = {}
    for href, shown in links:
        if href not in checked:
            checked[href] = worklist_total(c, href)
        assert checked[href] == int(shown), (unescape(href), shown, checked[href])
    assert any(n > 0 for n in checked.values()) and len(checked) > 15
    risk = re.search(r'<a href="([^"]*rule=R01%2CR02[^"]*)">([\d,.]+)</a> <span class="note">\((\d+) 条\)',
                     page.text)
    assert risk and worklist_total(c, risk.group(1)) == int(risk.group(3))
    if who == "bob":
        assert OTHER not in page.text and "支付指令金额" not in page.text and "生成并下载失信名单" not in page.text
        assert c.get(f"/dashboard?street={OTHER}").status_code == 403
    else:
        assert "1,000.10" in page.text and "生成并下载失信名单" in page.text
        assert "得分 = 40 × 结案率" in page.text
    c.app.state.engine.dispose()


def test_a_bad_month_is_a_clear_400(db_url):
    make_users(db_url)
    c = client(db_url, Clock())
    sign_in(c, "ole")
    r = c.get("/dashboard?month=2026-13")
    assert r.status_code == 400 and "YYYY-MM" in r.text
    empty = c.get("/dashboard")
    assert empty.status_code == 200 and "截至本月没有问题线索" in empty.text
    c.app.state.engine.dispose()


def test_the_dishonesty_list_is_published_from_the_dashboard_by_publishers_only(db_url, tmp_path):
    make_users(db_url)
    profile = load_profile(None).model_copy(update={"snapshot_dir": str(tmp_path / "snapshots")})
    drop = tmp_path / "drop"
    drop.mkdir()
    write_case(drop, {"tables": {
        "cases": [{"case_id": "C1", "payee_id": "@mum", "street": STREET}],
        "members": [{"case_id": "C1", "person_id": "@mum", "name": "李秀英"}],
        "ledger": [{"payee_id": "@mum", "case_id": "C1"}],
        "dishonesty": [{"record_id": "D1", "person_id": "@x", "name": "甲", "recorded_on": "2026-03-01"},
                       {"record_id": "D2", "person_id": "@y", "name": "乙", "recorded_on": "2026-11-20"}],
    }}, {})
    engine = store.connect(db_url)
    run_id = recurrence.save_run(engine, month="2026-10", profile="changning", data_dir=str(drop),
                                 started_at=datetime.now(UTC), frame=frame(), summary={"month": "2026-10"})
    engine.dispose()
    for who in ("ivy", "bob"):
        c = TestClient(create_app(db_url, profile, clock=Clock()), follow_redirects=False)
        sign_in(c, who)
        r = c.post("/dashboard/dishonesty", data={"month": "2026-10", "csrf": session_csrf(c)})
        assert r.status_code == 403 and person("@x") not in r.text
        c.app.state.engine.dispose()
    c = TestClient(create_app(db_url, profile, clock=Clock()), follow_redirects=False)
    sign_in(c, "ole")
    token = session_csrf(c)
    r = c.post("/dashboard/dishonesty", data={"month": "2026-10", "format": "csv", "csrf": token})
    assert r.status_code == 200 and 'filename="dishonesty-2026-10.csv"' in r.headers["content-disposition"]
    text = r.content.decode("utf-8-sig")
    assert person("@x") in text and person("@y") not in text  # D2 is recorded after October
    # the run's snapshot is read when it is there (the raw drop may be gone)
    kept = snapshot_root(profile, db_url) / str(run_id)
    kept.mkdir(parents=True)
    pl.DataFrame({"record_id": ["S1"], "person_id": [person("@z")], "name": ["丙"], "reason": [None],
                  "recorded_on": [date(2026, 1, 5)], "restricted_until": [None], "amount_defrauded": [150000],
                  "amount_recovered": [50000], "reported_on": [None], "unit": ["区民政局"]},
                 schema_overrides={"reason": pl.String, "restricted_until": pl.Date, "reported_on": pl.Date}
                 ).write_parquet(kept / "dishonesty.parquet")
    (kept / "manifest.json").write_text(json.dumps({"run_id": run_id + 1, "month": "2026-10"}), "utf-8")
    r = c.post("/dashboard/dishonesty", data={"month": "2026-10", "format": "csv", "csrf": token})
    assert person("@x") in r.content.decode("utf-8-sig")  # another run's snapshot is not this run's: the drop
    (kept / "manifest.json").write_text(json.dumps({"run_id": run_id, "month": "2026-10"}), "utf-8")
    r = c.post("/dashboard/dishonesty", data={"month": "2026-10", "format": "xlsx", "csrf": token})
    assert r.status_code == 200
    cells = [[v for v in row] for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)]
    assert cells[2][:3] == ["S1", person("@z"), "丙"] and len(cells) == 3
    no_run = c.post("/dashboard/dishonesty", data={"month": "2026-09", "csrf": token})
    assert no_run.status_code == 400 and "尚无审计运行记录" in no_run.text
    c.app.state.engine.dispose()
    engine = store.connect(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(store.access_log.c.actor, store.access_log.c.action, store.access_log.c.detail,
                                   store.access_log.c.unmasked).order_by(store.access_log.c.seq)).all()
    engine.dispose()
    published = [r for r in rows if r.action == "dishonesty.publish"]
    assert [(r.actor, json.loads(r.detail)["format"], r.unmasked) for r in published] == [
        ("ole", "csv", True), ("ole", "csv", True), ("ole", "xlsx", True)]
    assert {(r.actor, r.action) for r in rows if r.action == "web.denied"} == {("ivy", "web.denied"),
                                                                               ("bob", "web.denied")}


def test_the_worklist_filters_behind_the_drill_downs(db_url):
    """Age band (open findings by days since opened), 区级 (no street), closed, several rules at once."""
    from auditor.services.findings import FindingQuery, list_findings

    build(db_url)
    engine = store.connect(db_url)
    s = Session(engine, User("ole", "office"))

    def ids(**kw: object) -> set[str]:
        found = list_findings(s, FindingQuery(month_from="2026-10", month_to="2026-10", **kw))  # type: ignore[arg-type]
        return set() if found.is_empty() else set(found["finding_id"])

    try:
        assert ids(age="31-60") == {E["finding_id"]}
        assert ids(age="0-30") == {A["finding_id"], D["finding_id"], H["finding_id"]}  # B is closed: no age
        assert ids(age="61-90") == set() and ids(age="90+") == set()
        assert ids(street="区级") == {H["finding_id"]}
        assert ids(statuses=["rectified", "confirmed", "dismissed"]) == {B["finding_id"]}
        assert ids(rules=["R02", "R03"]) == {B["finding_id"], D["finding_id"]}
        with pytest.raises(Refused):
            list_findings(Session(engine, User("bob", "street", STREET)), FindingQuery(street="区级"))
    finally:
        engine.dispose()


def test_money_at_risk_is_the_runs_own_figure_on_the_demo(demo_run):
    """Computed from the stored findings, the dashboard's money at risk is the run's ``run.json`` figure, and its
    reconciled money the run's totals."""
    _, _, base = demo_run
    summary = json.loads((base / "out" / "run.json").read_text(encoding="utf-8"))
    engine = store.connect(f"sqlite:///{base / 'auditor.db'}")
    try:
        month = dashboard(Session(engine, User("ole", "office")), "2026-10").periods[0]
    finally:
        engine.dispose()
    assert month.at_risk.amount == summary["money"]["at_risk"] and month.at_risk.amount_fen > 0
    assert month.reconciled is not None
    assert {k: f"{v // 100}.{v % 100:02d}" for k, v in month.reconciled.items()} == {
        k: summary["money"][k] for k in ("instructed", "paid", "matched")}
    assert month.findings.count == summary["findings"]["total"]
