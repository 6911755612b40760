"""One door for personal data: every command that shows people acts as a user, applies the role's
masking and visibility, logs the view, logs refusals; masking by field; the people-per-finding index."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from auditor import store
from auditor.cli.main import main
from auditor.core.masking import mask_evidence, mask_value
from auditor.engine.people import people_of
from tests.followup_helpers import ACCOUNT, PID_A, PID_B, add_users, as_user, finding, run_cli, save
from tests.rulecases import person, write_case

HOLDER = "310105200509263185"
LANDLINE = "62345678"


def log_rows(db_url: str) -> list:
    engine = store.connect(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("select actor, role, action, target, unmasked from access_log order by seq")).all()
    engine.dispose()
    return rows


def actions(db_url: str) -> list[tuple[str, str]]:
    return [(r.actor, r.action) for r in log_rows(db_url)]


@pytest.fixture
def drop(tmp_path):
    """Two streets: 华阳路街道 (case C1, 李秀英 with a landline) and 江苏路街道 (case C2, 赵六), who share a phone."""
    d = tmp_path / "drop"
    d.mkdir()
    write_case(d, {"tables": {
        "staff": [{"staff_id": "S7", "person_id": "@cadre", "name": "王芳", "role": "cadre", "street": "华阳路街道"}],
        "cases": [{"case_id": "C1", "payee_id": "@mum", "street": "华阳路街道"},
                  {"case_id": "C2", "payee_id": "@far", "street": "江苏路街道"}],
        "members": [{"case_id": "C1", "person_id": "@mum", "name": "李秀英", "phone": LANDLINE},
                    {"case_id": "C2", "person_id": "@far", "name": "赵六", "phone": LANDLINE}],
        "ledger": [{"payee_id": "@mum", "case_id": "C1"}, {"payee_id": "@far", "case_id": "C2"}],
        "relations": [{"person_id": "@cadre", "relative_id": "@mum", "relation": "parent"}],
        "kin_filings": [], "custody_filings": [], "accounts": [],
        "dishonesty": [{"record_id": "D1", "person_id": "@x", "name": "甲", "recorded_on": "2026-03-01"}],
    }}, {})
    return d


def graph(drop, tmp_path, db, user, who, *extra):
    out = tmp_path / f"graph-{user}.html"
    code = main(["graph", "--person", person(who), "--data", str(drop), "--month", "2026-10", "--out", str(out),
                 *extra, *as_user(db, user)])
    return code, out.read_text(encoding="utf-8") if code == 0 and out.exists() else ""


def test_graph_needs_an_acting_user_and_is_logged(drop, tmp_path, users_db, capsys, monkeypatch):
    monkeypatch.delenv("AUDITOR_USER", raising=False)
    code = main(["graph", "--person", person("@mum"), "--data", str(drop), "--month", "2026-10",
                 "--db", users_db])
    assert code == 2 and "acting user required" in capsys.readouterr().err
    code, html = graph(drop, tmp_path, users_db, "ole", "@mum")
    assert code == 0 and "李秀英" in html and person("@mum") not in html
    assert LANDLINE not in html and mask_value(LANDLINE) == "62****78" and "62****78" in html
    assert ("ole", "graph.view") in actions(users_db)


def test_office_may_not_unmask_and_the_refusal_is_logged(drop, tmp_path, users_db):
    code, _ = graph(drop, tmp_path, users_db, "ole", "@mum", "--unmasked")
    assert code == 2
    last = log_rows(users_db)[-1]
    assert (last.actor, last.action, last.target) == ("ole", "denied:graph.view.unmasked", person("@mum"))


def test_street_officer_sees_own_people_named_and_others_anonymised(drop, tmp_path, users_db):
    code, html = graph(drop, tmp_path, users_db, "bob", "@mum")
    assert code == 0
    assert "李秀英" in html and "赵六" not in html and "外街镇人员" in html  # drawn, not named
    assert person("@far") not in html and person("@mum") not in html
    code, _ = graph(drop, tmp_path, users_db, "bob", "@far")  # a person of another street
    assert code == 2
    assert actions(users_db)[-1] == ("bob", "denied:graph.view")
    assert graph(drop, tmp_path, users_db, "bob", "@mum", "--unmasked")[0] == 2
    assert actions(users_db)[-1] == ("bob", "denied:graph.view.unmasked")


def test_dishonesty_list_needs_publish_and_is_logged_unmasked(drop, tmp_path, users_db):
    argv = ["dishonesty", "--month", "2026-10", "--data", str(drop), "--out", str(tmp_path / "pub")]
    assert main([*argv, *as_user(users_db, "bob")]) == 2
    assert main([*argv, *as_user(users_db, "ivy")]) == 2
    assert main([*argv, *as_user(users_db, "ole")]) == 0
    assert person("@x") in (tmp_path / "pub" / "dishonesty-2026-10.csv").read_text(encoding="utf-8-sig")
    rows = log_rows(users_db)
    assert [(r.actor, r.action) for r in rows[-3:]] == [
        ("bob", "denied:dishonesty.publish"), ("ivy", "denied:dishonesty.publish"), ("ole", "dishonesty.publish")]
    assert rows[-1].unmasked


def test_hold_list_is_for_auditors_only(drop, tmp_path, users_db):
    pay = tmp_path / "batch.csv"
    pay.write_text("payment_id,case_id,payee_id,program,month,amount,bank_account,street\n"
                   f"P1,C9,{person('@nobody')},dibao,2026-10,100.00,{ACCOUNT},华阳路街道\n", encoding="utf-8")
    argv = ["screen", "--payments", str(pay), "--data", str(drop), "--out", str(tmp_path / "h" / "hold.csv")]
    for user in ("ivy", "ole", "bob"):
        assert main([*argv, *as_user(users_db, user)]) == 2
    assert main([*argv, *as_user(users_db, "alice")]) == 1  # held: an unknown case
    assert person("@nobody") in (tmp_path / "h" / "hold.csv").read_text(encoding="utf-8-sig")
    assert [a for _, a in actions(users_db)[-4:]] == ["denied:screen.holds"] * 3 + ["screen.holds"]


def test_run_records_the_operating_system_user(tmp_path, monkeypatch, capsys):
    from auditor.demo import generate

    monkeypatch.delenv("AUDITOR_USER", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "osuser")
    generate(tmp_path / "drop", month="2026-10", n_cases=120)
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert main(["run", "--month", "2026-10", "--data", str(tmp_path / "drop"), "--out", str(tmp_path / "o"),
                 "--db", db]) == 0
    rows = log_rows(db)
    assert [(r.actor, r.role, r.action, bool(r.unmasked)) for r in rows] == [("osuser", "operator", "run.audit", True)]
    engine = store.connect(db)
    with engine.connect() as conn:
        assert set(conn.execute(text("select distinct actor from events")).scalars()) == {"osuser"}
    engine.dispose()
    add_users(db)  # an office user given by name is refused: runs are for auditors
    assert main(["run", "--month", "2026-10", "--data", str(tmp_path / "drop"), "--out", str(tmp_path / "o"),
                 "--db", db, "--user", "ole"]) == 2
    assert actions(db)[-1] == ("ole", "denied:run.audit")


@pytest.fixture
def store_db(db_url, capsys):
    engine = store.connect(db_url)
    c02 = finding(PID_A, rule="C02", evidence={"person_id": PID_A, "bank_account": ACCOUNT, "holders": [HOLDER],
                                                "paths": [f"账户 {ACCOUNT} —开户人→ 付志静 (310105…3185)"],
                                                "nodes": [{"id": f"P:{PID_B}", "label": "某人"}]})
    save(engine, "2026-10", finding(PID_A), finding(PID_B, street="江苏路街道"), c02)
    engine.dispose()
    add_users(db_url)
    return db_url, c02["finding_id"]


def test_refused_attempts_are_logged(store_db, capsys):
    db, _ = store_db
    other = finding(PID_B)["finding_id"]
    assert run_cli(capsys, "findings", "show", other, *as_user(db, "bob"))[0] == 2
    assert run_cli(capsys, "findings", "list", "--unmasked", *as_user(db, "bob"))[0] == 2
    assert run_cli(capsys, "findings", "close", other, "--as", "rectified", *as_user(db, "ole"))[0] == 2
    rows = log_rows(db)[-3:]
    assert [(r.actor, r.action, r.target) for r in rows] == [
        ("bob", "denied:findings.show", other), ("bob", "denied:findings.list.unmasked", None),
        ("ole", "denied:findings.close", other)]


def test_a_person_is_found_wherever_they_appear(store_db, capsys):
    db, c02 = store_db

    def ids(pid):
        code, out, _ = run_cli(capsys, "findings", "list", "--person", pid, *as_user(db, "ivy"))
        assert code == 0
        return set(re.findall(r"[A-Z]\d\d-[0-9A-F]{12}", out))

    assert ids(HOLDER) == {c02}  # an account holder, never the subject column
    assert ids(PID_B) == {finding(PID_B)["finding_id"], c02}  # subject of one, on the path of another
    assert c02 in ids(PID_A) and len(ids(PID_A)) == 2
    engine = store.connect(db)
    with engine.connect() as conn:
        roles = dict(conn.execute(text("select person_id, role from finding_people where finding_id = :f"),
                                  {"f": c02}).all())
    engine.dispose()
    assert roles == {PID_A: "subject", HOLDER: "account_holder", PID_B: "on_path"}


def test_evidence_is_masked_by_field_not_by_digit_runs():
    ev = {"person_id": PID_A, "phone": LANDLINE, "bank_account": ACCOUNT, "paid": "12345678.00",
          "amount_fen": 12345678, "paid_on": "2026-10-09", "payee_ids": [PID_B],
          "paths": [f"工作人员 甲 —同电话 {LANDLINE}→ 乙 (310105…1234)", f"账户 {ACCOUNT} —开户人→ 丙"],
          "nodes": [{"id": f"P:{PID_A}", "label": "乙"}, {"id": f"A:{ACCOUNT}", "label": f"账户 {ACCOUNT}"}],
          "note": "来电 12345678 元"}
    masked = json.loads(mask_evidence(json.dumps(ev, ensure_ascii=False)))
    assert masked["person_id"] == "310105********1234" and masked["phone"] == "62****78"
    assert masked["bank_account"] == "622202*********2011" and masked["payee_ids"] == ["310105********3456"]
    assert (masked["paid"], masked["amount_fen"], masked["paid_on"]) == ("12345678.00", 12345678, "2026-10-09")
    assert masked["paths"][0] == "工作人员 甲 —同电话 62****78→ 乙 (310105…1234)"
    assert ACCOUNT not in json.dumps(masked) and PID_A not in json.dumps(masked)
    assert masked["note"] == "来电 12345678 元"  # an 8-digit number that is not a phone field stays
    assert people_of(PID_A, json.dumps(ev)) >= {(PID_A, "subject"), (PID_B, "payee")}


def test_the_people_of_a_finding_are_read_wherever_its_evidence_names_them():
    ev = {"payee_id": "B", "holders": ["H1", "H2"], "relatives": [{"relative_id": "R1", "n": 1}, None],
          "custody": {"custodian_id": "C", "members": ["A", "M"], "staff_person_id": 7},
          "paths": [[{"id": "P:Q", "label": "q"}, {"id": "A:6222"}], {"source": "P:S", "target": "P:T"}],
          "person_ids": ["X", None], "case": {"person_id": "P:Z"}, "payee_ids": [], "long": {"payee_id": "9" * 33}}
    assert people_of("A", json.dumps(ev)) == {
        ("A", "subject"), ("B", "payee"), ("H1", "account_holder"), ("H2", "account_holder"), ("R1", "relative"),
        ("C", "custodian"), ("M", "member"), ("Q", "on_path"), ("S", "on_path"), ("T", "on_path"),
        ("P:Z", "member")}  # a member who is the subject is the subject only; a list with a null names nobody
    assert people_of("A", "not json") == {("A", "subject")} and people_of(None, None) == set()
