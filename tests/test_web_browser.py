"""In a real browser: Debian's Chromium driven by Playwright (never ``playwright install``).

A uvicorn server runs the app in a thread on a socket the test bound itself (so the browser's
first request waits in the listen queue, no polling). Each role signs in with its one-time
password, is made to change it, and reaches its home page. Screenshots go to ``screenshots/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor import store
from auditor.core.vocab import USER_ROLE_LABELS
from auditor.services.admin import add_user
from auditor.web.app import create_app
from tests.followup_helpers import PID_A, PID_B, finding, save
from tests.web_helpers import STREET, cheap_hashes, served  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"
USERS = (("alice", "auditor"), ("ivy", "inspector"), ("ole", "office"), ("bob", "street"))
NEW = "Browser-pass-2026"


@pytest.fixture
def server(tmp_path):
    """The app over a store with findings and one account per role; yields (base URL, one-time passwords)."""
    db_url = f"sqlite:///{tmp_path / 'web.db'}"
    engine = store.connect(db_url)
    save(engine, "2026-10", finding(PID_A), finding(PID_B, street="江苏路街道"))
    engine.dispose()
    otps = {}
    for name, role in USERS:
        new = add_user(db_url, "alice", name=name, role=role, street=STREET if role == "street" else None)
        otps[name] = new.one_time_password
    with served(create_app(db_url)) as base:
        yield base, otps


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: apt-get install -y chromium (.ci/run does)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def test_each_role_signs_in_changes_the_one_time_password_and_reaches_home(server, browser):
    base, otps = server
    SHOTS.mkdir(exist_ok=True)
    for name, role in USERS:
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/")
        assert page.url == f"{base}/login"
        if name == "alice":
            page.screenshot(path=str(SHOTS / "login.png"), full_page=True)
        page.fill("#name", name)
        page.fill("#password", otps[name])
        page.click("button.primary")
        assert page.url == f"{base}/password"
        assert "一次性初始密码" in page.inner_text("main")
        page.fill("#current", otps[name])
        page.fill("#new", NEW)
        page.fill("#again", NEW)
        if name == "alice":
            page.screenshot(path=str(SHOTS / "password.png"), full_page=True)
        page.click("button.primary")
        assert page.url == f"{base}/"
        assert page.inner_text("h1") == f"{USER_ROLE_LABELS[role]}工作台"
        total = int(page.inner_text(".stat .stat-value >> nth=0"))
        assert total == (1 if role == "street" else 2)
        assert "310105" not in page.content()
        page.screenshot(path=str(SHOTS / f"home-{role}.png"), full_page=True)
        if role == "auditor":
            page.click("text=用户管理")
            assert page.url == f"{base}/users"
            page.fill("input[name=name]", "sue")
            page.select_option("#new-role", "street")
            page.select_option("#new-street", "江苏路街道")
            page.click("text=开通并生成一次性密码")
            assert re.fullmatch(r"\S{16}", page.inner_text(".otp-value"))
            page.screenshot(path=str(SHOTS / "users.png"), full_page=True)
        page.click("text=退出登录")
        assert page.url == f"{base}/login"
        assert not errors, errors  # no CSP violations or failed loads
        page.close()
