"""The month's follow-up in Chromium: the auditor assigns from the worklist; the street officer sees only their
street, verifies a finding online, uploads a returned 问题清单 with a bad row (the error shows) and then a good
one; the office sees the worklist masked. Screenshots go to ``screenshots/``."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from auditor import store
from auditor.web.app import create_app
from tests.followup_helpers import PID_A, PID_B, finding, save
from tests.test_web_browser import SHOTS, browser  # noqa: F401
from tests.test_web_findings import DUE, FID_A, FID_B, ID18, OTHER, filled
from tests.web_helpers import PASSWORD, STREET, cheap_hashes, make_users, served  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def base(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'web.db'}"
    make_users(db_url)
    engine = store.connect(db_url)
    save(engine, "2026-10", finding(PID_A), finding(PID_B, street=OTHER),
         finding("310105198803030011", rule="R02", amount=56000, street=OTHER))
    engine.dispose()
    with served(create_app(db_url)) as base:
        yield base


def open_as(browser, base: str, name: str):  # noqa: F811
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    assert page.url == f"{base}/"
    return page, errors


def test_a_month_of_follow_up_in_the_browser(base, browser, tmp_path):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    page, errors = open_as(browser, base, "alice")
    page.click("nav >> text=问题线索")
    assert page.url == f"{base}/findings" and "共 3 条" in page.inner_text("main")
    page.check(f"input[name=fid][value='{FID_A}']")
    page.fill(".bulk input[name=person]", "王五")
    page.fill(".bulk input[name=due]", DUE)
    page.screenshot(path=str(SHOTS / "worklist-auditor.png"), full_page=True)
    page.click(".bulk button.primary")
    assert "assigned=1" in page.url and "已交办 1 条" in page.inner_text("main")
    page.click(f"a[href='/findings/{FID_A}']")
    assert "已交办" in page.inner_text(".stats") and "王五" in page.inner_text(".stats")
    page.screenshot(path=str(SHOTS / "finding-auditor.png"), full_page=True)
    assert not errors, errors
    page.close()

    page, errors = open_as(browser, base, "bob")
    page.goto(f"{base}/findings")
    links = page.locator("table.worklist a").all_inner_texts()
    assert links == [FID_A]
    page.goto(f"{base}/findings/{FID_B}")
    assert "无权访问" in page.inner_text("main")
    page.goto(f"{base}/findings/{FID_A}")
    page.select_option("#v-result", "属实")
    page.click("#verify button.primary")
    assert "未能保存" not in page.inner_text("main") and "整改中" in page.inner_text(".stats")
    page.screenshot(path=str(SHOTS / "finding-street.png"), full_page=True)
    page.click("nav >> text=问题清单")
    with page.expect_download() as download:
        page.click("button:has-text('下载问题清单')")
    content = open(download.value.path(), "rb").read()  # noqa: SIM115
    assert load_workbook(io.BytesIO(content)).sheetnames == ["汇总", STREET]
    bad, good = tmp_path / "退回-错.xlsx", tmp_path / "退回.xlsx"
    bad.write_bytes(filled(content, {FID_A: ("大概", None, None, None, None)}))
    good.write_bytes(filled(content, {FID_A: ("属实", "已停发并追回", "张三", "2026-11-20", None)}))
    page.set_input_files("#u-file", str(bad))
    page.click("#upload button.primary")
    problems = page.inner_text(".alert-error")
    assert "第 2 行" in problems and "核查结果" in problems and "大概" in problems
    page.screenshot(path=str(SHOTS / "import-error.png"), full_page=True)
    page.set_input_files("#u-file", str(good))
    page.click("#upload button.primary")
    assert "已整改 1 条" in page.inner_text(".alert-ok")
    page.screenshot(path=str(SHOTS / "import-done.png"), full_page=True)
    assert [re.sub(r".*status of (\d+).*", r"\1", e) for e in errors] == ["403", "400"]  # the two refusals only
    page.close()

    page, errors = open_as(browser, base, "ole")
    page.goto(f"{base}/findings")
    html = page.content()
    assert "共 3 条" in page.inner_text("main") and not ID18.findall(html) and PID_A not in html
    assert re.search(r"310105\*+1234", html)  # the person is shown, masked
    page.screenshot(path=str(SHOTS / "worklist-office.png"), full_page=True)
    assert not errors, errors
    page.close()
