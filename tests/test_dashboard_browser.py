"""The office's dashboard in Chromium: from the navigation to the dashboard, a street's bar in the chart is a
link to that street's worklist, which lists the same number of findings; the printed page (PDF) has the
figures and no navigation. Screenshots go to ``screenshots/``."""

from __future__ import annotations

import re

import pytest

from auditor.web.app import create_app
from tests.test_dashboard import OTHER, build
from tests.test_web_browser import SHOTS, browser  # noqa: F401
from tests.test_web_findings_browser import open_as
from tests.web_helpers import STREET, cheap_hashes, make_users, served  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def base(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'web.db'}"
    build(db_url)
    make_users(db_url)
    with served(create_app(db_url)) as base:
        yield base


def test_the_office_drills_from_a_street_bar_to_its_worklist(base, browser, tmp_path):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    page, errors = open_as(browser, base, "ole")
    page.click("nav >> text=数据看板")
    assert page.url == f"{base}/dashboard" and page.inner_text("h1") == "数据看板 · 2026-11"  # the latest month
    page.select_option("select[name=month]", "2026-10")
    page.click("form.filters button.primary")
    assert page.inner_text("h1") == "数据看板 · 2026-10"
    page.screenshot(path=str(SHOTS / "dashboard-office.png"), full_page=True)
    bar = page.locator(f"svg.chart a.chart-link[aria-label^='{STREET}：']")
    shown = int(re.search(r"(\d+)$", bar.get_attribute("aria-label") or "").group(1))  # type: ignore[union-attr]
    assert shown == 3
    bar.locator("rect").click()
    assert page.url.startswith(f"{base}/findings?") and "street=" in page.url
    assert f"共 {shown} 条" in page.inner_text("main")
    streets = page.locator("table.worklist tbody tr td:nth-child(6)").all_inner_texts()  # after the tick box
    assert streets == [STREET] * shown and OTHER not in streets
    page.screenshot(path=str(SHOTS / "dashboard-drill-office.png"), full_page=True)
    page.go_back()
    page.locator(f"svg.chart a.chart-link[aria-label^='{OTHER}：'] rect").click()
    assert "共 1 条" in page.inner_text("main")
    page.go_back()
    page.emulate_media(media="print")
    assert page.locator("nav.nav").is_hidden() and page.locator("form[action='/dashboard/dishonesty']").is_hidden()
    assert page.locator(".formula").is_visible()
    page.pdf(path=str(tmp_path / "dashboard.pdf"), format="A4")
    assert (tmp_path / "dashboard.pdf").read_bytes().startswith(b"%PDF")
    assert not errors, errors  # no CSP violations or failed loads
    page.close()
