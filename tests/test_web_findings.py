"""The follow-up pages: worklist (filters, pages, streets, bulk assign), a finding's page and its actions with
the command line's validation, online verification, the 问题清单 round trip, and no unmasked personal data on
any page the office or a street can reach. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import re
from datetime import date, timedelta
from html import unescape
from urllib.parse import urljoin, urlsplit

from openpyxl import load_workbook
from sqlalchemy import select

from auditor import store
from auditor.web.routes.base import UPLOAD_LIMIT
from tests.followup_helpers import ACCOUNT, PHONE, PID_A, PID_B, finding, save
from tests.web_helpers import STREET, Clock, cheap_hashes, client, make_users, session_csrf, sign_in  # noqa: F401

OTHER = "江苏路街道"
DUE = (date.today() + timedelta(days=30)).isoformat()
FID_A = finding(PID_A)["finding_id"]  # 华阳路街道 (bob's street)
FID_B = finding(PID_B, street=OTHER)["finding_id"]
ID18 = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ACCOUNT_RE = re.compile(r"(?<!\d)\d{16,19}(?!\d)")


DRAWN = "310105197707070077"  # the subject of a finding with a relationship drawing
GRAPH = {"person_id": DRAWN, "paths": [f"{DRAWN} —开户人→ 账户 {ACCOUNT}"],
         "nodes": [{"id": f"P:{DRAWN}", "label": f"乙 ({DRAWN})"}, {"id": f"A:{ACCOUNT}", "label": f"账户 {ACCOUNT}"}],
         "edges": [{"source": f"P:{DRAWN}", "target": f"A:{ACCOUNT}", "kind": "holder", "label": "开户人"}]}
FID_G = finding(DRAWN, rule="C02", evidence=GRAPH)["finding_id"]


def setup(db_url: str, extra: int = 0, *, drawn: bool = False) -> None:
    """Users, the two findings of 2026-10, and ``extra`` more of bob's street (for paging); ``drawn`` adds one
    with a relationship drawing."""
    make_users(db_url)
    engine = store.connect(db_url)
    more = [finding(f"3101051990{i:08d}", amount=1000 + i, rule="R02") for i in range(extra)]
    more += [finding(DRAWN, rule="C02", evidence=GRAPH)] if drawn else []
    save(engine, "2026-10", finding(PID_A), finding(PID_B, street=OTHER), *more)
    engine.dispose()


def signed_in(db_url: str, name: str):
    c = client(db_url, Clock())
    assert sign_in(c, name).status_code == 303
    return c, session_csrf(c)


def actions(db_url: str) -> list[tuple[str, str, str | None]]:
    engine = store.connect(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(store.access_log.c.actor, store.access_log.c.action, store.access_log.c.target)
                            .order_by(store.access_log.c.seq)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def status_of(db_url: str, fid: str) -> dict:
    engine = store.connect(db_url)
    with engine.connect() as conn:
        row = conn.execute(select(store.findings).where(store.findings.c.finding_id == fid)).mappings().one()
    engine.dispose()
    return dict(row)


def ids_on(html: str) -> set[str]:
    return set(re.findall(r'href="/findings/(R\d\d-[0-9A-F]+)"', html))


def test_worklist_filters_sorts_and_pages(db_url):
    setup(db_url, extra=55)
    c, _ = signed_in(db_url, "alice")
    first = c.get("/findings")
    assert first.status_code == 200 and "共 57 条" in first.text and "第 1/2 页" in first.text
    assert len(ids_on(first.text)) == 50 and "page=2" in first.text
    second = c.get("/findings?page=2")
    assert len(ids_on(second.text)) == 7 and not ids_on(first.text) & ids_on(second.text)
    by_amount = c.get("/findings?sort=amount").text
    assert by_amount.index(FID_A) < by_amount.index(finding("310105199000000054", rule="R02")["finding_id"])
    assert ids_on(c.get(f"/findings?street={OTHER}").text) == {FID_B}
    assert ids_on(c.get("/findings?rule=R01").text) == {FID_A, FID_B}
    assert ids_on(c.get("/findings?severity=low").text) == set()
    assert ids_on(c.get("/findings?month_from=2026-11").text) == set()
    assert len(ids_on(c.get("/findings?month_to=2026-10&status=new").text)) == 50
    assert ids_on(c.get("/findings?recurring=1").text) == set()
    assert ids_on(c.get("/findings?overdue=1").text) == set()
    bad = c.get("/findings?month_from=2026-13")
    assert bad.status_code == 400 and "起始月份" in bad.text


def test_a_street_officer_sees_only_their_street_and_another_is_refused_and_logged(db_url):
    setup(db_url)
    c, _ = signed_in(db_url, "bob")
    page = c.get("/findings")
    assert ids_on(page.text) == {FID_A} and OTHER not in page.text
    r = c.get(f"/findings?street={OTHER}")  # the filter cannot widen a street's view
    assert r.status_code == 403 and not ids_on(r.text)
    assert ("bob", "denied:findings.list", OTHER) in actions(db_url)
    r = c.get(f"/findings/{FID_B}")
    assert r.status_code == 403 and "只能查看" in r.text
    assert ("bob", "denied:findings.show", FID_B) in actions(db_url)
    assert c.get(f"/findings/{FID_A}").status_code == 200
    missing = c.get("/findings/R01-000000000000")
    assert missing.status_code == 404 and "不存在" in missing.text


def test_bulk_assign_from_the_worklist_needs_the_token_and_a_person(db_url):
    setup(db_url)
    c, token = signed_in(db_url, "ole")
    assert c.post("/findings/assign", data={"fid": [FID_A, FID_B], "person": "王五", "due": DUE}).status_code == 403
    r = c.post("/findings/assign", data={"fid": [FID_A, FID_B], "person": "", "due": DUE, "csrf": token})
    assert r.status_code == 400 and "责任人" in r.text
    r = c.post("/findings/assign", data={"fid": [], "person": "王五", "csrf": token})
    assert r.status_code == 400 and "勾选" in r.text
    r = c.post("/findings/assign", data={"fid": [FID_A, FID_B], "person": "王五", "due": DUE, "csrf": token,
                                         "back": "/findings?rule=R01"})
    assert r.status_code == 303 and r.headers["location"] == "/findings?rule=R01&assigned=2"
    assert "已交办 2 条" in c.get(r.headers["location"]).text
    for fid in (FID_A, FID_B):
        row = status_of(db_url, fid)
        assert (row["status"], row["assignee"], row["due_date"].isoformat()) == ("assigned", "王五", DUE)
    bob, token = signed_in(db_url, "bob")
    assert bob.post("/findings/assign", data={"fid": [FID_A], "person": "x", "csrf": token}).status_code == 403


def test_the_finding_page_shows_money_evidence_tables_history_and_the_role_s_actions(db_url):
    setup(db_url)
    c, token = signed_in(db_url, "ole")
    html = c.get(f"/findings/{FID_A}").text
    assert "1,200.00" in html and "无指令支付" in html and "处理记录" in html and "发现" in html
    assert "{&#34;" not in html and '{"' not in html  # evidence as tables, not raw JSON
    assert "<table" in html.split("各月发现与证据")[1]
    assert 'action="/findings/' + FID_A + '/assign"' in html and "/close" not in html and "/confirm" not in html
    bob, _ = signed_in(db_url, "bob")
    html = bob.get(f"/findings/{FID_A}").text
    assert "/verify" in html and "/close" in html and "/confirm" not in html and "/assign" not in html
    alice, _ = signed_in(db_url, "alice")
    html = alice.get(f"/findings/{FID_A}").text
    assert all(f"/findings/{FID_A}/{a}" in html for a in ("assign", "close", "verify"))
    ivy, _ = signed_in(db_url, "ivy")
    html = ivy.get(f"/findings/{FID_A}").text
    assert 'method="post" action="/findings/' not in html


def test_each_action_with_the_command_line_s_validation(db_url):
    setup(db_url)
    alice, token = signed_in(db_url, "alice")
    page = f"/findings/{FID_A}"
    r = alice.post(f"{page}/assign", data={"person": "王五", "due": "2020-01-01", "csrf": token})
    assert r.status_code == 400 and "早于今天" in r.text and "未能保存" in r.text
    r = alice.post(f"{page}/assign", data={"person": "王五", "due": "明天", "csrf": token})
    assert r.status_code == 400 and "不是日期" in r.text
    r = alice.post(f"{page}/rectifying", data={"csrf": token})
    assert r.status_code == 400 and "不允许的状态变更" in r.text
    assert alice.post(f"{page}/assign", data={"person": "王五", "due": DUE, "csrf": token}).status_code == 303
    bob, btoken = signed_in(db_url, "bob")
    assert bob.post(f"{page}/rectifying", data={"note": "已约谈", "csrf": btoken}).status_code == 303
    r = bob.post(f"{page}/close", data={"outcome": "dismissed", "reason": " ", "csrf": btoken})
    assert r.status_code == 400 and "排除线索必须说明理由" in r.text
    r = bob.post(f"{page}/confirm", data={"recovered": "100", "csrf": btoken})
    assert r.status_code == 403
    r = alice.post(f"{page}/confirm", data={"recovered": "12.345", "csrf": token})
    assert r.status_code == 400 and "追回金额" in r.text
    assert alice.post(f"{page}/confirm", data={"recovered": "1,200.50", "reason": "查实", "csrf": token}
                      ).status_code == 303
    row = status_of(db_url, FID_A)
    assert (row["status"], row["amount_recovered_fen"]) == ("confirmed", 120050)
    html = alice.get(page).text
    assert "结案：查实违规" in html and "1,200.50" in html and "已约谈" in html
    assert re.search(r"2\d{3}-\d\d-\d\d \d\d:\d\d", html.split("处理记录")[1])
    r = alice.post(f"/findings/{FID_B}/close", data={"outcome": "dismissed", "reason": "查无此事", "csrf": token})
    assert r.status_code == 303 and status_of(db_url, FID_B)["status"] == "dismissed"


def test_online_verification_shows_every_error_at_once_and_maps_like_the_importer(db_url):
    setup(db_url)
    bob, token = signed_in(db_url, "bob")
    page = f"/findings/{FID_A}/verify"
    r = bob.post(page, data={"核查结果": "也许", "完成日期": "下周", "整改措施": "追回", "csrf": token})
    assert r.status_code == 400 and "核查结果" in r.text and "完成日期" in r.text and "2 处错误" in r.text
    assert 'value="追回"' in r.text  # what was typed stays in the form
    r = bob.post(page, data={"核查结果": "不属实", "csrf": token})
    assert r.status_code == 400 and "备注" in r.text
    r = bob.post(page, data={"核查结果": "属实", "csrf": token})  # not yet assigned: who is responsible?
    assert r.status_code == 400 and "整改责任人" in r.text
    assert status_of(db_url, FID_A)["status"] == "new"
    r = bob.post(page, data={"核查结果": "属实", "整改措施": "停发并追回", "整改责任人": "张三", "csrf": token})
    assert r.status_code == 303 and status_of(db_url, FID_A)["status"] == "rectifying"
    r = bob.post(page, data={"核查结果": "属实", "完成日期": "2026-11-20", "csrf": token})
    assert r.status_code == 303 and status_of(db_url, FID_A)["status"] == "rectified"
    assert bob.post(f"/findings/{FID_B}/verify", data={"核查结果": "不属实", "备注": "x", "csrf": token}
                    ).status_code == 403
    assert ("bob", "denied:findings.verify", FID_B) in actions(db_url)
    alice, atoken = signed_in(db_url, "alice")
    r = alice.post(f"/findings/{FID_B}/verify", data={"核查结果": "不属实", "备注": "人户一致", "csrf": atoken})
    assert r.status_code == 303
    row = status_of(db_url, FID_B)
    assert (row["status"], row["close_reason"]) == ("dismissed", "人户一致")


def filled(content: bytes, rows: dict[str, tuple]) -> bytes:
    """The downloaded 问题清单 with the street columns of ``rows`` (finding id -> 5 values) filled in."""
    wb = load_workbook(io.BytesIO(content))
    ws = wb[STREET]
    header = [c.value for c in ws[1]]
    first = header.index("核查结果") + 1
    for row in ws.iter_rows(min_row=2):
        values = rows.get(row[header.index("问题编号")].value)
        for i, v in enumerate(values or ()):
            ws.cell(row[0].row, first + i, v)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_issues_sheet_round_trip_lists_every_bad_row_then_imports(db_url):
    setup(db_url)
    bob, token = signed_in(db_url, "bob")
    r = bob.get("/findings/issues.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["汇总", STREET]
    cells = " ".join(str(v) for row in wb[STREET].iter_rows(values_only=True) for v in row if v is not None)
    assert FID_A in cells and FID_B not in cells and PID_A not in cells and ACCOUNT not in cells
    assert ("bob", "findings.issues", STREET) in actions(db_url)
    assert bob.get(f"/findings/issues.xlsx?street={OTHER}").status_code == 403
    bad = filled(r.content, {FID_A: ("大概", None, None, "2026-13-01", None)})
    r2 = bob.post("/findings/import", data={"csrf": token}, files={"file": ("退回.xlsx", bad)})
    assert r2.status_code == 400 and "第 2 行" in r2.text and "核查结果" in r2.text and "完成日期" in r2.text
    assert "/tmp" not in r2.text and status_of(db_url, FID_A)["status"] == "new"
    good = filled(r.content, {FID_A: ("属实", "停发", "张三", None, None)})
    r3 = bob.post("/findings/import", data={"csrf": token}, files={"file": ("退回.xlsx", good)})
    assert r3.status_code == 200 and "导入完成" in r3.text and "整改中 1 条" in r3.text
    assert status_of(db_url, FID_A)["status"] == "rectifying"
    big = bob.post("/findings/import", data={"csrf": token}, files={"file": ("x.xlsx", b"0" * (UPLOAD_LIMIT + 1))})
    assert big.status_code == 413 and "超过" in big.text


def crawl(c, start: list[str]) -> dict[str, str]:
    """Every page reachable by GET links from ``start`` (sign-out is a form, so it is never followed)."""
    seen: dict[str, str] = {}
    todo = list(start)
    while todo:
        url = todo.pop()
        if url in seen or len(seen) > 200:
            continue
        r = c.get(url)
        seen[url] = r.text if "text/html" in r.headers.get("content-type", "") else ""
        for href in re.findall(r'href="([^"#]+)"', seen[url]):
            target = urljoin(url, unescape(href))
            parts = urlsplit(target)
            if not parts.netloc and not parts.path.startswith("/static/"):
                todo.append(target)
    return seen


def readable(html: str) -> str:
    """The page's text with every embedded ``data:`` image decoded (a drawing must not hide an id)."""
    images = re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", html)
    return html + "".join(base64.b64decode(b).decode() for b in images)


def test_the_relationship_drawing_is_an_image_of_masked_labels(db_url):
    setup(db_url, drawn=True)
    c, _ = signed_in(db_url, "bob")
    html = c.get(f"/findings/{FID_G}").text
    assert '<img class="graph" alt="关系图" src="data:image/svg+xml;base64,' in html and "关系路径" in html
    svg = readable(html)[len(html):]
    assert svg.startswith("<svg") and "310105" in svg and DRAWN not in svg and ACCOUNT not in svg


def test_no_page_of_the_office_or_a_street_shows_an_unmasked_id_phone_or_account(db_url):
    setup(db_url, drawn=True)
    alice, token = signed_in(db_url, "alice")
    assert alice.post(f"/findings/{FID_A}/assign", data={"person": "王五", "note": f"联系 {PHONE}", "due": DUE,
                                                         "csrf": token}).status_code == 303
    for name in ("ole", "bob"):
        c, _ = signed_in(db_url, name)
        pages = crawl(c, ["/", "/findings"])
        assert f"/findings/{FID_A}" in pages and len(pages) >= 4
        assert PID_A[:6] in pages[f"/findings/{FID_A}"]  # the person is there, masked
        assert f"/findings/{FID_G}" in pages
        for url, html in pages.items():
            text = readable(html)
            found = ID18.findall(text) + MOBILE.findall(text) + ACCOUNT_RE.findall(text)
            assert not found, f"{name} {url}: {found}"
