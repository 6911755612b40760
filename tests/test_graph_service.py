"""The interactive relationship graph's data (``auditor.services.graph``): built from the month's snapshot,
findings drawn on it, expand by opaque key, kind filter, masking per role, unmasking with a reason, street
officers' view, every call logged. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from auditor import store
from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.followup.privacy import User
from auditor.services import graph, runs
from auditor.services.session import Refused, Session, operator_session
from tests.followup_helpers import add_users
from tests.rulecases import person, write_case

MONTH = "2026-10"
PROFILE = load_profile(None)
HOME = "上海市长宁区长宁路100弄5号301室"
PHONE = "13900000001"
TABLES = {
    "staff": [{"staff_id": "S7", "person_id": "@cadre", "name": "王芳", "role": "cadre", "phone": "13900000077"}],
    "cases": [{"case_id": "C1", "payee_id": "@mum"},
              {"case_id": "C2", "payee_id": "@other", "street": "江苏路街道", "bank_account": "6222000000000002"}],
    "members": [{"case_id": "C1", "person_id": "@mum", "name": "李秀英", "phone": PHONE, "address": HOME},
                {"case_id": "C1", "person_id": "@dad", "name": "王建国", "relation_to_payee": "spouse", "address": HOME},
                {"case_id": "C2", "person_id": "@other", "name": "赵外街", "phone": PHONE}],
    "payments": [{"payee_id": "@mum", "case_id": "C1"},
                 {"payee_id": "@other", "case_id": "C2", "bank_account": "6222000000000002", "street": "江苏路街道"}],
    "ledger": [{"payee_id": "@mum", "case_id": "C1"},
               {"payee_id": "@other", "case_id": "C2", "bank_account": "6222000000000002", "street": "江苏路街道"}],
    "relations": [{"person_id": "@cadre", "relative_id": "@mum", "relation": "parent"}],
    "accounts": [{"bank_account": "6222000000000001", "holder_id": "@mum", "holder_name": "李秀英"},
                 {"bank_account": "6222000000000003", "holder_id": "@dad", "holder_name": "王建国"}],
    "custody_filings": [{"person_id": "@dad", "bank_account": "6222000000000003", "custodian_id": "@agent",
                         "custodian_name": "钱代管"}],
    "kin_filings": [],
}
MUM, DAD, OTHER, CADRE, AGENT = (person(t) for t in ("@mum", "@dad", "@other", "@cadre", "@agent"))
SECRETS = (MUM, DAD, OTHER, CADRE, AGENT, PHONE, "6222000000000001", "6222000000000003")


def audit(db_url: str, folder: Path, tables: dict = TABLES) -> Path:
    """Audit the planted drop into ``db_url`` (its snapshot kept); the drop folder."""
    drop = folder / "drop"
    drop.mkdir()
    write_case(drop, {"tables": tables}, {})
    ops = operator_session(db_url, "ops")
    runs.run_month(ops, month=MONTH, data_dir=drop, out_dir=folder / "out", profile=PROFILE, db_url=db_url)
    ops.engine.dispose()
    return drop


@pytest.fixture
def audited(db_url, tmp_path):
    drop = audit(db_url, tmp_path)
    add_users(db_url)
    engine = store.connect(db_url)
    yield engine, drop
    engine.dispose()


ROLES = {"alice": User("alice", "auditor"), "ivy": User("ivy", "inspector"), "ole": User("ole", "office"),
         "bob": User("bob", "street", "华阳路街道")}


def view(engine, who: str, **kw) -> dict:
    return graph.neighbourhood(Session(engine, ROLES[who]), profile=PROFILE, month=MONTH, **kw)


def by_label(data: dict, start: str) -> dict:
    found = [n for n in data["nodes"] if n["label"].startswith(start)]
    assert len(found) == 1, (start, [n["label"] for n in data["nodes"]])
    return found[0]


def last_log(engine) -> dict:
    log = store.access_log
    with engine.connect() as conn:
        row = conn.execute(select(log).order_by(log.c.seq.desc()).limit(1)).mappings().one()
    return dict(row) | {"detail": json.loads(row["detail"] or "{}")}


def test_neighbourhood_of_a_planted_relative_with_its_finding(audited):
    engine, _ = audited
    data = view(engine, "ivy", person_id=MUM)
    labels = {n["label"] for n in data["nodes"]}
    assert {f"李秀英 ({MUM[:6]}…{MUM[-4:]})", f"王芳 ({CADRE[:6]}…{CADRE[-4:]})", "案件 C1 (低保 华阳路街道)",
            "电话 139****0001", f"赵外街 ({OTHER[:6]}…{OTHER[-4:]})", f"王建国 ({DAD[:6]}…{DAD[-4:]})",
            "账户 622200******0001"} <= labels
    assert not any(label.startswith("钱代管") for label in labels)  # two links away: behind the custody account
    focus = next(n for n in data["nodes"] if n["focus"])
    assert focus["key"] == data["focus"] and focus["kind"] == "person" and "K01" in focus["rules"]
    assert {e["kind"] for e in data["edges"]} == {"kin", "phone", "dwelling", "account"}
    kin = [e for e in data["edges"] if e["source"] == by_label(data, "王芳")["key"] and e["target"] == focus["key"]]
    assert [e["label"] for e in kin] == ["父母"]  # 李秀英 is 王芳's parent
    assert "K01" in {f["rule"] for f in data["findings"]} and not data["capped"]
    assert all(n["key"].startswith("n") and len(n["key"]) == 25 for n in data["nodes"])
    text = json.dumps(data, ensure_ascii=False)
    assert not [s for s in SECRETS if s in text], "a masked viewer's JSON holds a full id, phone or account"


def test_expand_by_key_adds_the_neighbours_and_marks_the_findings_path(audited):
    engine, _ = audited
    first = view(engine, "alice", person_id=MUM)
    dad, cadre = by_label(first, "王建国"), by_label(first, "王芳")
    assert not dad["expanded"] and dad["expandable"]
    more = view(engine, "alice", person_id=MUM, expand=[dad["key"]])
    assert len(more["nodes"]) > len(first["nodes"]) and more["expanded"] == [dad["key"]]
    agent = by_label(more, "钱代管")
    assert agent["tags"] == ["custodian"]
    custody = {(e["label"], e["kind"]) for e in more["edges"]}
    assert ("代管账户 CF1", "custody") in custody and ("代管人 CF1", "custody") in custody
    both = view(engine, "alice", person_id=MUM, expand=[dad["key"], cadre["key"]])
    post = by_label(both, "工作人员 王芳 (华阳路街道 村居干部 S7)")
    assert "K01" in post["rules"]
    hot = {(e["source"], e["target"]) for e in both["edges"] if "K01" in e["rules"]}
    assert (cadre["key"], post["key"]) in hot  # the evidence's post —父母→ relative, drawn through the staff member
    assert view(engine, "ivy", person_id=MUM)["focus"] != first["focus"]  # keys are per viewer
    with pytest.raises(AuditInputError, match="不在关系图中"):
        view(engine, "alice", person_id=MUM, expand=["n" + "0" * 24])
    with pytest.raises(AuditInputError, match="不在关系图中"):  # a raw id is not a key
        view(engine, "alice", person_id=MUM, expand=[f"P:{AGENT}"])


def test_kind_filter_keeps_only_those_links(audited):
    engine, _ = audited
    data = view(engine, "ole", person_id=MUM, kinds=["kin"])
    assert {e["kind"] for e in data["edges"]} == {"kin"}
    assert {n["kind"] for n in data["nodes"]} == {"person", "case"}
    assert not any(n["label"].startswith("赵外街") for n in data["nodes"])  # reached through the phone only
    assert last_log(engine)["detail"]["kinds"] == ["kin"]
    with pytest.raises(AuditInputError, match="关系类型"):
        view(engine, "ole", person_id=MUM, kinds=["friends"])


def test_unmasking_needs_the_right_role_and_a_reason_and_is_logged(audited):
    engine, _ = audited
    data = view(engine, "ivy", person_id=MUM, unmask_reason="核查 K01 线索")
    assert data["masked"] is False
    assert by_label(data, "李秀英")["detail"]["身份证号"] == MUM
    assert "电话 13900000001" in {n["label"] for n in data["nodes"]}
    entry = last_log(engine)
    assert (entry["action"], entry["actor"], entry["target"], entry["unmasked"]) == ("graph.view", "ivy", MUM, True)
    assert entry["detail"]["reason"] == "核查 K01 线索" and entry["detail"]["month"] == MONTH
    with pytest.raises(AuditInputError, match="理由"):
        view(engine, "ivy", person_id=MUM, unmask_reason="  ")
    with pytest.raises(Refused):
        view(engine, "ole", person_id=MUM, unmask_reason="想看")
    entry = last_log(engine)
    assert (entry["action"], entry["actor"], entry["target"]) == ("denied:graph.view.unmasked", "ole", MUM)
    masked = view(engine, "ole", person_id=MUM)
    assert masked["masked"] and by_label(masked, "李秀英")["detail"]["身份证号"] == f"{MUM[:6]}********{MUM[-4:]}"
    entry = last_log(engine)
    assert (entry["action"], entry["actor"], entry["unmasked"]) == ("graph.view", "ole", False)


def test_street_officer_sees_other_streets_people_anonymised_and_cannot_open_them(audited):
    engine, _ = audited
    data = view(engine, "bob", person_id=MUM)
    other = by_label(data, "外街镇人员")
    assert other["label"] == f"外街镇人员 {OTHER[:6]}********{OTHER[-4:]}" and not other["expandable"]
    text = json.dumps(data, ensure_ascii=False)
    assert "赵外街" not in text and not [s for s in SECRETS if s in text]
    assert {f["street"] for f in data["findings"]} <= {"华阳路街道"}
    assert by_label(data, "王建国")["expandable"]
    with pytest.raises(Refused):
        view(engine, "bob", person_id=MUM, expand=[other["key"]])
    assert (last_log(engine)["action"], last_log(engine)["actor"]) == ("denied:graph.view", "bob")
    with pytest.raises(Refused):
        view(engine, "bob", person_id=OTHER)
    entry = last_log(engine)
    assert (entry["action"], entry["target"]) == ("denied:graph.view", OTHER)
    with pytest.raises(Refused):
        view(engine, "bob", person_id=MUM, unmask_reason="核查")


def test_answers_from_the_snapshot_alone_and_logs_each_view(audited):
    engine, drop = audited
    shutil.rmtree(drop)  # the raw exports are gone: the page still answers, from the run's snapshot
    data = view(engine, "alice", staff_id="S7")
    assert by_label(data, "王芳")["focus"] and by_label(data, "工作人员 王芳")["kind"] == "post"
    entry = last_log(engine)
    assert (entry["action"], entry["target"], entry["detail"]["month"]) == ("graph.view", "S7", MONTH)
    assert entry["detail"]["run_id"] == data["run_id"]
    with pytest.raises(AuditInputError, match="数据快照"):
        graph.neighbourhood(Session(engine, ROLES["alice"]), profile=PROFILE, month="2026-09", person_id=MUM)
    with pytest.raises(AuditInputError, match="没有任何关联"):
        view(engine, "alice", person_id=person("@nobody"))
    with pytest.raises(AuditInputError, match="工号"):
        view(engine, "alice", staff_id="S99")
    with pytest.raises(AuditInputError, match="尚无"):  # a page of a store without any run
        graph.neighbourhood(Session(engine, ROLES["alice"]), profile=PROFILE, month="", person_id=MUM)


def test_a_large_neighbourhood_is_capped_and_says_so(db_url, tmp_path, monkeypatch):
    many = {**TABLES, "members": [*TABLES["members"], *({"case_id": "C1", "person_id": f"@kid{i}", "name": f"孩子{i}",
                                                         "address": HOME} for i in range(12))]}
    audit(db_url, tmp_path, many)
    add_users(db_url)
    engine = store.connect(db_url)
    monkeypatch.setattr(graph, "PER_NODE", 5)
    data = view(engine, "alice", person_id=MUM)
    dwelling = by_label(data, "住址")
    assert dwelling["more"] == 14 - 5  # 14 residents, 5 shown
    monkeypatch.setattr(graph, "MAX_NODES", 6)
    capped = view(engine, "alice", person_id=MUM)
    assert capped["capped"] and len(capped["nodes"]) <= 6 and capped["hidden"] > 0 and "未显示" in capped["notice"]
    engine.dispose()
