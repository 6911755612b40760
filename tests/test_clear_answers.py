"""Clear answers at the keyboard: every bad import row at once, .xls named, past due dates refused,
several statuses, Chinese status names, Beijing time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from auditor import store
from auditor.core.periods import beijing_text
from tests.followup_helpers import PID_A, PID_B, add_users, as_user, finding, run_cli, save
from tests.test_followup import issues_file


@pytest.fixture
def db(db_url):
    engine = store.connect(db_url)
    save(engine, "2026-10", finding(PID_A), finding(PID_B))
    engine.dispose()
    add_users(db_url)
    return db_url


def test_import_reports_every_bad_row_at_once(db, tmp_path, capsys):
    a, b = finding(PID_A)["finding_id"], finding(PID_B)["finding_id"]
    path = issues_file(tmp_path, [finding(PID_A), finding(PID_B)],
                       {a: ["也许", None, None, "下周", None], b: ["不属实", None, None, None, None]})
    code, _, err = run_cli(capsys, "findings", "import", path, *as_user(db, "alice"))
    lines = err.strip().splitlines()
    assert code == 2 and "有 3 处错误" in lines[0] and len(lines) == 4
    assert {re.sub(r"第 \d 行", "第 n 行", line.split("列")[1].split("：")[0].strip()) for line in lines[1:]} == {
        "核查结果", "完成日期", "备注"}
    assert all("工作表 华阳路街道 第" in line for line in lines[1:])


def test_xls_gets_a_message_naming_the_format_to_save_as(db, tmp_path, capsys):
    path = tmp_path / "returned.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    code, _, err = run_cli(capsys, "findings", "import", str(path), *as_user(db, "alice"))
    assert code == 2 and ".xlsx" in err and "另存为" in err and len(err.strip().splitlines()) == 1


def test_assign_due_in_the_past_is_refused(db, capsys):
    fid = finding(PID_A)["finding_id"]
    past = (date.today() - timedelta(days=1)).isoformat()
    code, _, err = run_cli(capsys, "findings", "assign", fid, "--to", "张", "--due", past, *as_user(db, "alice"))
    assert code == 2 and "--due" in err and "早于今天" in err
    future = (date.today() + timedelta(days=5)).isoformat()
    assert run_cli(capsys, "findings", "assign", fid, "--to", "张", "--due", future, *as_user(db, "alice"))[0] == 0


def test_status_takes_several_values_and_names_the_option(db, capsys):
    a = finding(PID_A)["finding_id"]
    future = (date.today() + timedelta(days=5)).isoformat()
    run_cli(capsys, "findings", "assign", a, "--to", "张", "--due", future, *as_user(db, "alice"))

    def ids(*argv):
        code, out, _ = run_cli(capsys, "findings", "list", *argv, *as_user(db, "ivy"))
        assert code == 0
        return len(set(re.findall(r"R01-[0-9A-F]{12}", out)))

    assert ids("--status", "assigned") == 1
    out = run_cli(capsys, "findings", "list", "--status", "assigned", *as_user(db, "ivy"))[1]
    assert "已交办" in out and " assigned " not in out  # statuses shown in Chinese
    assert ids("--status", "new,assigned") == 2 and ids("--status", "new", "--status", "已交办") == 2
    code, _, err = run_cli(capsys, "findings", "list", "--status", "open", *as_user(db, "ivy"))
    assert code == 2 and "--status 'open'" in err and "新发现" in err
    code, _, err = run_cli(capsys, "findings", "list", "--from", "2026-13", *as_user(db, "ivy"))
    assert code == 2 and "--from '2026-13'" in err and "--month" not in err


def test_status_names_in_messages_are_chinese(db, capsys):
    fid = finding(PID_A)["finding_id"]
    code, _, err = run_cli(capsys, "findings", "close", fid, "--as", "confirmed", "--recovered", "1",
                           *as_user(db, "alice"))
    assert code == 2 and "不允许的状态变更 新发现 → 查实违规" in err


def test_event_times_are_shown_in_beijing_time(db, capsys, tmp_path):
    assert beijing_text(datetime(2026, 10, 31, 17, 30, tzinfo=UTC)) == "2026-11-01 01:30"
    assert beijing_text(datetime(2026, 10, 31, 17, 30)) == "2026-11-01 01:30"  # SQLite: naive UTC
    fid = finding(PID_A)["finding_id"]
    code, out, _ = run_cli(capsys, "findings", "show", fid, *as_user(db, "ivy"))
    assert code == 0 and "北京时间" in out and "UTC" not in out and "created" not in out and "发现" in out
    out_file = tmp_path / "d.html"
    assert run_cli(capsys, "findings", "dossier", fid, "--out", str(out_file), *as_user(db, "ivy"))[0] == 0
    html = out_file.read_text(encoding="utf-8")
    assert "北京时间" in html and "UTC" not in html


def test_codes_are_shown_as_chinese_labels_on_the_graph_page(tmp_path, users_db):
    from auditor.cli.main import main
    from tests.rulecases import person, write_case

    d = tmp_path / "drop"
    d.mkdir()
    write_case(d, {"tables": {
        "staff": [{"staff_id": "S7", "person_id": "@cadre", "name": "王芳", "role": "cadre"}],
        "cases": [{"case_id": "C1", "payee_id": "@mum", "program": "dibao", "status": "active"}],
        "members": [{"case_id": "C1", "person_id": "@mum", "name": "李秀英"}],
        "ledger": [{"payee_id": "@mum", "case_id": "C1"}],
        "relations": [{"person_id": "@cadre", "relative_id": "@mum", "relation": "parent"}],
    }}, {})
    out = tmp_path / "g.html"
    assert main(["graph", "--person", person("@mum"), "--data", str(d), "--month", "2026-10", "--out", str(out),
                 *as_user(users_db, "ivy")]) == 0
    html = out.read_text(encoding="utf-8")
    assert "村居干部" in html and "低保" in html
    assert not re.search(r">(cadre|dibao|active)<", html)
