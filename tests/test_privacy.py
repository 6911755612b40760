"""Roles, masking in every output (CLI, xlsx, html) and the hash-chained access log."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from auditor import store
from auditor.core.masking import mask_text, mask_value
from auditor.followup.accesslog import verify_log
from tests.followup_helpers import ACCOUNT, PHONE, PID_A, PID_B, finding, run_cli, save

FULL = re.compile(rf"{PID_A}|{PID_B}|{ACCOUNT}|{PHONE}")


@pytest.fixture
def db(db_url, capsys):
    """Two findings in two streets and one user of each role."""
    engine = store.connect(db_url)
    save(engine, "2026-10", finding(PID_A), finding(PID_B, street="江苏路街道"))
    engine.dispose()
    base = ["--db", db_url]
    assert run_cli(capsys, "users", "add", "alice", "--role", "auditor", *base)[0] == 0
    for name, role, *street in (("ivy", "inspector"), ("ole", "office"), ("bob", "street", "华阳路街道")):
        extra = ["--street", street[0]] if street else []
        assert run_cli(capsys, "users", "add", name, "--role", role, *extra, *base, "--user", "alice")[0] == 0
    return db_url


def cli(capsys, db, user, *argv):
    return run_cli(capsys, *argv, "--db", db, "--user", user)


def test_mask_values_and_text():
    assert mask_value(PID_A) == "310105********1234"
    assert mask_value(PHONE) == "138****5678"
    assert mask_value(ACCOUNT) == "622202*********2011"
    text = f'{{"id": "{PID_A}", "t": "领款人{PID_A}，电话{PHONE}", "fid": "R01-123456789012", "d": "2026-10-09"}}'
    masked = mask_text(text)
    assert not FULL.search(masked) and "R01-123456789012" in masked and "2026-10-09" in masked


def test_first_user_must_be_auditor_and_only_auditors_add_users(db_url, capsys):
    assert run_cli(capsys, "users", "add", "x", "--role", "office", "--db", db_url)[0] == 2
    assert run_cli(capsys, "users", "add", "alice", "--role", "auditor", "--db", db_url)[0] == 0
    assert run_cli(capsys, "users", "add", "o", "--role", "office", "--db", db_url, "--user", "alice")[0] == 0
    code, _, err = run_cli(capsys, "users", "add", "p", "--role", "office", "--db", db_url, "--user", "o")
    assert code == 2 and "may not users" in err
    assert run_cli(capsys, "users", "add", "s", "--role", "street", "--db", db_url, "--user", "alice")[0] == 2
    code, _, err = run_cli(capsys, "findings", "list", "--db", db_url, "--user", "ghost")
    assert code == 2 and "unknown user" in err


@pytest.mark.parametrize("user", ["alice", "ivy", "ole", "bob"])
def test_cli_list_and_show_are_masked_for_every_role_by_default(db, capsys, user):
    code, out, _ = cli(capsys, db, user, "findings", "list")
    assert code == 0 and "310105********1234" in out and not FULL.search(out)
    code, out, _ = cli(capsys, db, user, "findings", "show", finding(PID_A)["finding_id"])
    assert code == 0 and not FULL.search(out) and "支付记录" in out  # evidence shown with Chinese labels


def test_unmasked_only_on_request_by_auditor_or_inspector(db, capsys):
    for user in ("alice", "ivy"):
        code, out, _ = cli(capsys, db, user, "findings", "list", "--unmasked")
        assert code == 0 and PID_A in out and PID_B in out
        code, out, _ = cli(capsys, db, user, "findings", "show", finding(PID_A)["finding_id"], "--unmasked")
        assert ACCOUNT in out and PHONE in out
    for user in ("ole", "bob"):
        code, _, err = cli(capsys, db, user, "findings", "list", "--unmasked")
        assert code == 2 and "may not unmask" in err


def test_street_officer_sees_only_their_street(db, capsys):
    code, out, _ = cli(capsys, db, "bob", "findings", "list")
    assert code == 0 and "华阳路街道" in out and "江苏路街道" not in out and "共 1 条" in out
    code, _, err = cli(capsys, db, "bob", "findings", "list", "--street", "江苏路街道")
    assert code == 2 and "not your street" in err
    other = finding(PID_B)["finding_id"]
    for argv in (("findings", "show", other), ("findings", "close", other, "--as", "dismissed", "--reason", "x"),
                 ("findings", "dossier", other, "--out", "/tmp/never.html")):
        code, _, err = cli(capsys, db, "bob", *argv)
        assert code == 2 and "not your street" in err


def test_role_permissions_on_workflow_commands(db, capsys):
    fid = finding(PID_A)["finding_id"]
    assert cli(capsys, db, "ivy", "findings", "assign", fid, "--to", "张")[0] == 2  # inspector read-only
    assert cli(capsys, db, "ole", "findings", "assign", fid, "--to", "张", "--due", "2099-12-01")[0] == 0
    assert cli(capsys, db, "ole", "findings", "update", fid, "--status", "rectifying")[0] == 2
    assert cli(capsys, db, "bob", "findings", "update", fid, "--status", "rectifying", "--note", "约谈")[0] == 0
    code, _, err = cli(capsys, db, "bob", "findings", "close", fid, "--as", "confirmed", "--recovered", "1")
    assert code == 2 and "may not confirm" in err
    code, _, err = cli(capsys, db, "alice", "findings", "close", fid, "--as", "rectified", "--recovered", "1")
    assert code == 2 and "confirmed" in err
    assert cli(capsys, db, "alice", "findings", "close", fid, "--as", "confirmed", "--recovered", "1200.50",
               "--reason", "查实")[0] == 0
    code, out, _ = cli(capsys, db, "ivy", "findings", "show", fid)
    assert "状态 查实违规" in out and "追回金额 1200.50 元" in out
    code, _, err = cli(capsys, db, "alice", "findings", "update", fid, "--status", "rectifying")
    assert code == 2 and "illegal transition" in err


def test_inspector_queries_by_person_staff_street_rule_status_and_months(db, capsys):
    def ids(*argv):
        code, out, _ = cli(capsys, db, "ivy", "findings", "list", *argv)
        assert code == 0
        return set(re.findall(r"R0\d-[0-9A-F]{12}", out))
    a, b = finding(PID_A)["finding_id"], finding(PID_B)["finding_id"]
    assert ids("--person", PID_A) == {a}
    assert ids("--street", "江苏路街道") == {b}
    assert ids("--rule", "R01", "--status", "new") == {a, b}
    assert ids("--status", "dismissed") == set()
    assert ids("--from", "2026-11") == set() and ids("--from", "2026-09", "--to", "2026-10") == {a, b}
    assert ids("--staff", "S1") == set()


def test_dossier_and_office_report_html_are_masked(db, capsys, tmp_path):
    fid = finding(PID_A)["finding_id"]
    engine = store.connect(db)
    save(engine, "2026-11", finding(PID_A, month="2026-11", evidence={
        "paths": [f"{PID_A} —配偶→ {PID_B}"], "svg": f"<svg xmlns='http://www.w3.org/2000/svg'><text>{PID_A}</text>"
                                                   "<script>alert(1)</script></svg>", "phone": PHONE}))
    engine.dispose()
    out = tmp_path / "d.html"
    assert cli(capsys, db, "ivy", "findings", "dossier", fid, "--out", str(out))[0] == 0
    html = out.read_text(encoding="utf-8")
    assert not FULL.search(html) and "310105********1234 —配偶→" in html and "2026-11" in html and "2026-10" in html
    assert "data:image/svg+xml;base64," in html and "<script>" not in html
    assert cli(capsys, db, "ivy", "findings", "dossier", fid, "--out", str(out), "--unmasked")[0] == 0
    assert PID_A in out.read_text(encoding="utf-8")
    report = tmp_path / "o.html"
    assert cli(capsys, db, "ole", "office-report", "--month", "2026-11", "--out", str(report))[0] == 0
    html = report.read_text(encoding="utf-8")
    assert not FULL.search(html) and "绩效评价" in html and "华阳路街道" in html
    assert cli(capsys, db, "bob", "office-report", "--month", "2026-11")[0] == 2


def test_access_log_records_queries_and_detects_tampering(db, capsys):
    cli(capsys, db, "ivy", "findings", "list", "--person", PID_A)
    cli(capsys, db, "alice", "findings", "show", finding(PID_A)["finding_id"], "--unmasked")
    cli(capsys, db, "ole", "findings", "list")
    engine = store.connect(db)
    with engine.connect() as conn:
        rows = conn.execute(text("select seq, actor, action, unmasked, detail from access_log order by seq")).all()
    assert [(r.actor, r.action) for r in rows[-3:]] == [
        ("ivy", "findings.list"), ("alice", "findings.show"), ("ole", "findings.list")]
    assert bool(rows[-2].unmasked) and PID_A in rows[-3].detail
    code, out, _ = cli(capsys, db, "ivy", "access-log", "verify")
    assert code == 0 and out.startswith("访问日志完整") and len(out.strip().splitlines()) == 1
    target = rows[-3].seq
    with engine.begin() as conn:
        conn.execute(text("update access_log set actor = 'mallory' where seq = :s"), {"s": target})
    assert verify_log(engine).broken_at == target
    code, _, err = cli(capsys, db, "ivy", "access-log", "verify")
    assert code == 1 and f"第 {target} 条" in err
    with engine.begin() as conn:
        conn.execute(text("update access_log set actor = 'ivy' where seq = :s"), {"s": target})
        conn.execute(text("delete from access_log where seq = :s"), {"s": target + 1})
    assert verify_log(engine).broken_at == target + 1
    engine.dispose()


def test_issues_xlsx_and_report_of_a_run_are_masked(demo_run):
    _, result, _ = demo_run
    wb = load_workbook(result.out_dir / "issues.xlsx", read_only=True)
    ids = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")
    cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
    assert cells and not any(ids.search(c) for c in cells)
    assert any("********" in c for c in cells)
    html = (result.out_dir / "report.html").read_text(encoding="utf-8")
    assert not ids.search(html)


def test_acting_user_from_the_environment(db, capsys, monkeypatch):
    monkeypatch.setenv("AUDITOR_USER", "bob")
    code, out, _ = run_cli(capsys, "findings", "list", "--db", db)
    assert code == 0 and "共 1 条" in out
    monkeypatch.delenv("AUDITOR_USER")
    code, _, err = run_cli(capsys, "findings", "list", "--db", db)
    assert code == 2 and "acting user required" in err


def test_concurrent_appends_keep_one_unbroken_chain(db_url):
    import threading

    from auditor.followup.accesslog import log_access
    from auditor.followup.privacy import User

    engine = store.connect(db_url)
    users = [User("ivy", "inspector"), User("alice", "auditor")]

    def write(user):
        for n in range(10):
            log_access(engine, user, "findings.list", detail={"n": n})

    threads = [threading.Thread(target=write, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    check = verify_log(engine)
    assert (check.state, check.entries, check.head_seq) == ("intact", 20, 20)
    engine.dispose()


def test_report_masking_the_findings_it_lists_is_the_report_of_the_masked_findings(demo_run):
    from auditor.core.masking import mask_frame
    from auditor.engine.runner import load_catalogue
    from auditor.reporting.data import build_report_data
    from auditor.reporting.drawings import relations_section

    _, result, _ = demo_run
    names = {c: cls.name for c, cls in load_catalogue().items()}

    def report(frame, mask=None):
        section = relations_section(frame, names, mask=mask)
        return build_report_data(frame, result.run, [section] if section else [], mask=mask).render()

    masked = report(mask_frame(result.findings))
    assert report(result.findings, mask=mask_frame) == masked
    assert report(result.findings) != masked  # the demo's report lists personal data: the mask is what hides it
