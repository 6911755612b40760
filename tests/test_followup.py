"""Follow-up lifecycle: every transition, closing rules, recurrence across months, street import."""

from __future__ import annotations

import itertools
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.core.vocab import FINDING_STATUSES
from auditor.engine import facts
from auditor.engine.runner import load_catalogue
from auditor.followup import importer, lifecycle
from auditor.followup import workflow as followup
from auditor.followup.lifecycle import TRANSITIONS, TransitionError
from auditor.reporting.issues_xlsx import write_issues_xlsx
from tests.followup_helpers import PID_A, PID_B, finding, frame, save


def state(engine, fid: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(store.findings).where(store.findings.c.finding_id == fid)).mappings().one())


def events(engine, fid: str | None = None) -> list[dict]:
    q = select(store.events).order_by(store.events.c.event_id)
    if fid:
        q = q.where(store.events.c.finding_id == fid)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def force(engine, fid: str, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(store.findings).where(store.findings.c.finding_id == fid).values(status=status))


def apply(engine, fid: str, target: str) -> None:
    """Drive ``target`` through the public workflow API."""
    if target == "assigned":
        followup.assign(engine, fid, street="华阳路街道", person="张科长", due=date(2026, 12, 1), actor="alice")
    elif target == "rectifying":
        followup.start(engine, fid, actor="bob", note="已约谈")
    elif target in lifecycle.CLOSED:
        followup.close(engine, fid, target, actor="alice", reason="核实",
                       recovered_fen=5000 if target == "confirmed" else None)
    else:
        lifecycle.check_transition(state(engine, fid)["status"], target)


@pytest.mark.parametrize("current,target", list(itertools.product(FINDING_STATUSES, FINDING_STATUSES)))
def test_every_transition_is_allowed_or_refused_by_the_table(current, target):
    if target in TRANSITIONS[current]:
        lifecycle.check_transition(current, target)
    else:
        with pytest.raises(TransitionError, match="illegal transition"):
            lifecycle.check_transition(current, target)


@pytest.mark.parametrize("current,target", [(c, t) for c, t in itertools.product(FINDING_STATUSES, FINDING_STATUSES) if t != "new"])
def test_transitions_through_the_api_record_an_event_or_change_nothing(tmp_path, current, target):
    engine = store.connect(f"sqlite:///{tmp_path / 'a.db'}")
    f = finding(PID_A)
    save(engine, "2026-10", f)
    fid = f["finding_id"]
    force(engine, fid, current)
    before = len(events(engine, fid))
    if target in TRANSITIONS[current]:
        apply(engine, fid, target)
        assert state(engine, fid)["status"] == target
        last = events(engine, fid)[-1]
        assert (last["from_status"], last["to_status"]) == (current, target)
        assert last["actor"] in ("alice", "bob") and last["at"] is not None
    else:
        with pytest.raises(TransitionError):
            apply(engine, fid, target)
        assert state(engine, fid)["status"] == current
        assert len(events(engine, fid)) == before
    engine.dispose()


def test_full_lifecycle_and_closing_rules(db_url):
    engine = store.connect(db_url)
    a, b = finding(PID_A), finding(PID_B)
    save(engine, "2026-10", a, b)
    fa, fb = a["finding_id"], b["finding_id"]
    followup.assign(engine, fa, street="华阳路街道", person="张科长", due=date(2026, 12, 1), actor="alice")
    followup.start(engine, fa, actor="bob", note="约谈")
    followup.close(engine, fa, "confirmed", actor="alice", reason="查实冒领", recovered_fen=120000)
    row = state(engine, fa)
    assert (row["status"], row["amount_recovered_fen"], row["assignee"]) == ("confirmed", 120000, "张科长")
    assert [e["action"] for e in events(engine, fa)] == ["created", "assigned", "rectifying", "closed_confirmed"]
    assert events(engine, fa)[-1]["amount_fen"] == 120000
    with pytest.raises(AuditInputError, match="reason"):
        followup.close(engine, fb, "dismissed", actor="alice", reason=" ")
    with pytest.raises(AuditInputError, match="confirmed"):
        followup.close(engine, fb, "dismissed", actor="alice", reason="x", recovered_fen=1)
    with pytest.raises(AuditInputError, match="unknown finding"):
        followup.start(engine, "R01-NOPE", actor="bob")
    followup.close(engine, fb, "dismissed", actor="alice", reason="系统延迟入账，已核实无误")
    assert state(engine, fb)["close_reason"] == "系统延迟入账，已核实无误"
    engine.dispose()


# ---------------------------------------------------------------- recurrence across months


def test_recurrence_over_two_months(db_url):
    engine = store.connect(db_url)
    pids = ("310105199001010011", "310105199001010022", "310105199001010033", "310105199001010044")
    rect, dis_same, dis_changed, open_ = (finding(p) for p in pids)
    save(engine, "2026-10", rect, dis_same, dis_changed, open_)
    followup.assign(engine, rect["finding_id"], street="华阳路街道", person="张", due=date(2026, 11, 30), actor="a")
    followup.start(engine, rect["finding_id"], actor="a")
    followup.close(engine, rect["finding_id"], "rectified", actor="a", reason="已整改")
    for f in (dis_same, dis_changed):
        followup.close(engine, f["finding_id"], "dismissed", actor="a", reason="线索不实")

    nov = [finding(p, month="2026-11", amount=150000 if p == pids[2] else 120000) for p in pids]
    save(engine, "2026-11", *nov)

    r = state(engine, rect["finding_id"])
    assert (r["status"], r["recurring"], r["assignee"], r["last_month"]) == ("new", True, None, "2026-11")
    assert events(engine, rect["finding_id"])[-1]["action"] == "reopened"
    s = state(engine, dis_same["finding_id"])
    assert (s["status"], s["last_month"]) == ("dismissed", "2026-11")  # same facts: stays dismissed
    assert events(engine, dis_same["finding_id"])[-1]["action"] == "closed_dismissed"
    assert store.month_findings(engine, "2026-11").filter(
        store.month_findings(engine, "2026-11")["finding_id"] == dis_same["finding_id"]).height == 1
    c = state(engine, dis_changed["finding_id"])
    assert (c["status"], c["recurring"]) == ("new", False)
    note = events(engine, dis_changed["finding_id"])[-1]["note"]
    assert "实付金额 paid 1200.00 → 1500.00" in note
    assert state(engine, open_["finding_id"])["status"] == "new"
    assert [e["action"] for e in events(engine, open_["finding_id"])] == ["created"]

    n_events, snapshot = len(events(engine)), [state(engine, f["finding_id"]) for f in nov]
    save(engine, "2026-11", *nov)
    assert len(events(engine)) == n_events  # rerun: no duplicate events
    assert [{k: v for k, v in state(engine, f["finding_id"]).items() if k != "updated_at"} for f in nov] == \
        [{k: v for k, v in s.items() if k != "updated_at"} for s in snapshot]
    engine.dispose()


def test_recurrence_over_three_months(db_url):
    engine = store.connect(db_url)
    fid = finding(PID_A)["finding_id"]
    save(engine, "2026-09", finding(PID_A, month="2026-09"))
    followup.assign(engine, fid, street="华阳路街道", person="张", due=date(2026, 10, 31), actor="a")
    followup.start(engine, fid, actor="a")
    followup.close(engine, fid, "rectified", actor="a", reason="已整改")
    save(engine, "2026-10", finding(PID_A, month="2026-10"))  # recurs: reopened, recurring
    assert (state(engine, fid)["status"], state(engine, fid)["recurring"]) == ("new", True)
    followup.close(engine, fid, "dismissed", actor="a", reason="同一笔补发，已核实")
    save(engine, "2026-11", finding(PID_A, month="2026-11"))  # same facts: stays dismissed
    save(engine, "2026-11", finding(PID_A, month="2026-11"))  # rerun: nothing changes
    row = state(engine, fid)
    assert (row["status"], row["first_month"], row["last_month"]) == ("dismissed", "2026-09", "2026-11")
    assert [e["action"] for e in events(engine, fid)] == [
        "created", "assigned", "rectifying", "closed_rectified", "reopened", "closed_dismissed"]
    save(engine, "2026-12", finding(PID_A, month="2026-12", amount=999))  # facts changed: back
    assert state(engine, fid)["status"] == "new"
    with engine.connect() as conn:
        months = conn.execute(select(store.occurrences.c.month).where(store.occurrences.c.finding_id == fid)
                              .order_by(store.occurrences.c.month)).scalars().all()
    assert months == ["2026-09", "2026-10", "2026-11", "2026-12"]
    engine.dispose()


def test_the_month_itself_is_not_a_fact():
    oct_, nov = finding(PID_A, month="2026-10"), finding(PID_A, month="2026-11")
    ev = json.loads(nov["evidence"]) | {"month": "2026-11", "_row": 9}
    ev["paid_rows"][0] |= {"txn_id": "T77", "paid_on": "2026-11-09"}
    nov["evidence"] = json.dumps(ev)
    assert oct_["evidence"] != nov["evidence"]

    def hashes(f: dict) -> list[str]:
        rows = frame(f)
        return facts.frame_facts(rows, [facts.parse(e) for e in rows["evidence"]])[1]

    assert hashes(oct_) == hashes(nov)
    assert hashes(oct_) != hashes(finding(PID_A, amount=120001))
    assert not any("month" in cls.stable_facts for cls in load_catalogue().values())


def test_open_finding_with_changed_facts_gets_an_event_naming_them(db_url):
    engine = store.connect(db_url)
    save(engine, "2026-10", finding(PID_A, month="2026-10"))
    followup.assign(engine, finding(PID_A)["finding_id"], street="华阳路街道", person="张", due=date(2026, 12, 1),
                    actor="a")
    save(engine, "2026-11", finding(PID_A, month="2026-11", amount=130000))
    row, last = state(engine, finding(PID_A)["finding_id"]), events(engine)[-1]
    assert (row["status"], row["assignee"]) == ("assigned", "张")
    assert last["action"] == "facts_changed" and "paid 1200.00 → 1300.00" in last["note"]


# ---------------------------------------------------------------- import of a returned 问题清单


def issues_file(tmp_path, rows: list[dict], fills: dict[str, list]) -> str:
    """issues.xlsx as run_audit writes it, with the street columns filled per finding id."""
    path = tmp_path / "issues.xlsx"
    write_issues_xlsx(frame(*rows).with_columns(), path, month="2026-10", district="长宁区")
    wb = load_workbook(path)
    for ws in wb.worksheets[1:]:
        header = [c.value for c in ws[1]]
        for r in range(2, ws.max_row + 1):
            fid = ws.cell(r, header.index("问题编号") + 1).value
            for col, value in zip(("核查结果", "整改措施", "整改责任人", "完成日期", "备注"), fills.get(fid, []), strict=False):
                ws.cell(r, header.index(col) + 1).value = value
    wb.save(path)
    return str(path)


def test_import_good_file_maps_results_to_statuses(db_url, tmp_path):
    engine = store.connect(db_url)
    rows = [finding(p) for p in ("310105199001010011", "310105199001010022", "310105199001010033",
                                 "310105199001010044")]
    rows.append(finding("310105199001010055", street="江苏路街道"))
    save(engine, "2026-10", *rows)
    ids = [r["finding_id"] for r in rows]
    path = issues_file(tmp_path, rows, {
        ids[0]: ["不属实", None, None, None, "系统延迟入账"],
        ids[1]: ["属实", "追回并停发", "王五", date(2026, 11, 20), None],
        ids[2]: ["部分属实", "正在核对", "王五", None, None],
        ids[4]: ["属实", "已整改", "李四", "2026-11-15", ""],
    })
    counts = importer.import_issues(engine, path, actor="bob", today=date(2026, 11, 22))
    assert counts == {"dismissed": 1, "rectified": 2, "rectifying": 1}
    assert [state(engine, i)["status"] for i in ids] == ["dismissed", "rectified", "rectifying", "new", "rectified"]
    assert state(engine, ids[0])["close_reason"] == "系统延迟入账"
    assert state(engine, ids[2])["assignee"] == "王五"
    assert [e["action"] for e in events(engine, ids[1])] == ["created", "assigned", "rectifying", "closed_rectified"]
    assert importer.import_issues(engine, path, actor="bob") == {"unchanged": 4}  # re-import is harmless
    engine.dispose()


@pytest.mark.parametrize("fill,message", [
    (["不属实", None, None, None, None], "第 3 行 列 备注"),
    (["也许", None, None, None, None], "第 3 行 列 核查结果"),
    (["属实", "x", "王五", "下周", None], "第 3 行 列 完成日期"),
    (["属实", "x", None, None, None], "第 3 行 列 整改责任人"),
])
def test_import_bad_row_names_sheet_row_column_and_applies_nothing(db_url, tmp_path, fill, message):
    engine = store.connect(db_url)
    rows = [finding("310105199001010011"), finding("310105199001010022")]
    save(engine, "2026-10", *rows)
    ids = sorted(r["finding_id"] for r in rows)
    path = issues_file(tmp_path, rows, {ids[0]: ["属实", "已整改", "王五", "2026-11-15", None], ids[1]: fill})
    n_events = len(events(engine))
    with pytest.raises(AuditInputError, match=f"工作表 华阳路街道 {message}"):
        importer.import_issues(engine, path, actor="bob")
    assert [state(engine, i)["status"] for i in ids] == ["new", "new"]
    assert len(events(engine)) == n_events
    engine.dispose()


def test_import_refuses_an_illegal_transition_and_another_street(db_url, tmp_path):
    engine = store.connect(db_url)
    rows = [finding(PID_A), finding(PID_B, street="江苏路街道")]
    save(engine, "2026-10", *rows)
    followup.close(engine, rows[0]["finding_id"], "dismissed", actor="a", reason="不实")
    path = issues_file(tmp_path, rows[:1], {rows[0]["finding_id"]: ["属实", "x", "王五", None, None]})
    with pytest.raises(AuditInputError, match="第 2 行 列 核查结果：不允许的状态变更 排除（线索不实） → 整改中"):
        importer.import_issues(engine, path, actor="bob")
    path = issues_file(tmp_path, rows[1:], {rows[1]["finding_id"]: ["不属实", None, None, None, "不实"]})
    with pytest.raises(AuditInputError, match="not your street"):
        importer.import_issues(engine, path, actor="bob", only_street="华阳路街道")
    assert state(engine, rows[1]["finding_id"])["status"] == "new"
    engine.dispose()


def test_issue_list_leaves_out_dismissed_clues_and_marks_recurring(db_url):
    engine = store.connect(db_url)
    a, b, c = (finding(p) for p in ("310105199001010011", "310105199001010022", "310105199001010033"))
    save(engine, "2026-10", a, b, c)
    followup.close(engine, a["finding_id"], "dismissed", actor="x", reason="不实")
    followup.assign(engine, b["finding_id"], street="华阳路街道", person="张", due=date(2026, 11, 1), actor="x")
    followup.start(engine, b["finding_id"], actor="x")
    followup.close(engine, b["finding_id"], "rectified", actor="x")
    nov = [finding(r["person_id"], month="2026-11") for r in (a, b, c)]
    save(engine, "2026-11", *nov)
    rows = followup.issue_rows(engine, frame(*[r | {"month": "2026-11"} for r in nov]), "2026-11")
    assert dict(zip(rows["finding_id"], rows["status"], strict=False)) == {b["finding_id"]: "新发现（复发）",
                                                            c["finding_id"]: "新发现"}
    engine.dispose()


def test_import_through_the_cli_as_a_street_officer(db_url, tmp_path, capsys):
    from tests.followup_helpers import run_cli

    engine = store.connect(db_url)
    rows = [finding(PID_A), finding(PID_B, street="江苏路街道")]
    save(engine, "2026-10", *rows)
    engine.dispose()
    run_cli(capsys, "users", "add", "alice", "--role", "auditor", "--db", db_url)
    run_cli(capsys, "users", "add", "bob", "--role", "street", "--street", "华阳路街道", "--db", db_url, "--user", "alice")
    path = issues_file(tmp_path, rows, {rows[0]["finding_id"]: ["不属实", None, None, None, "已核实为补发"]})
    code, out, _ = run_cli(capsys, "findings", "import", path, "--db", db_url, "--user", "bob")
    assert code == 0 and "dismissed 1" in out
    path = issues_file(tmp_path, rows, {rows[1]["finding_id"]: ["不属实", None, None, None, "x"]})
    code, _, err = run_cli(capsys, "findings", "import", path, "--db", db_url, "--user", "bob")
    assert code == 2 and "工作表 江苏路街道 第 2 行" in err and "not your street" in err
