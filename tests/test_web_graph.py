"""The relationship graph in the web application: ``/graph`` (the page and its partial) and ``/graph/data``
(JSON), over HTTP and in Chromium (pan, zoom, click to expand, filter by kind)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor.web.app import create_app
from tests.test_graph_service import AGENT, MUM, OTHER, SECRETS, audit
from tests.web_helpers import Clock, cheap_hashes, client, make_users, served, sign_in  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"


@pytest.fixture
def web(db_url, tmp_path):
    """A store audited from the planted drop, with web accounts (alice, ivy, ole, bob of 华阳路街道)."""
    make_users(db_url)
    audit(db_url, tmp_path)
    return db_url


def test_graph_data_answers_json_per_role(web):
    c = client(web, Clock())
    assert c.get(f"/graph/data?person={MUM}&month=2026-10").status_code == 303  # anonymous: to /login
    sign_in(c, "ivy")
    r = c.get(f"/graph/data?person={MUM}&month=2026-10")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert data["masked"] and len(data["nodes"]) >= 8 and not [s for s in SECRETS if s in r.text]
    dad = next(n for n in data["nodes"] if n["label"].startswith("王建国"))
    more = c.get(f"/graph/data?person={MUM}&month=2026-10&expand={dad['key']}").json()
    assert any(n["label"].startswith("钱代管") for n in more["nodes"]) and AGENT not in str(more)
    only = c.get(f"/graph/data?person={MUM}&month=2026-10&kinds=kin,post").json()
    assert {e["kind"] for e in only["edges"]} <= {"kin", "post"}
    shown = c.get(f"/graph/data?person={MUM}&month=2026-10&reason=核查线索").json()
    assert not shown["masked"] and MUM in str(shown)
    bad = c.get(f"/graph/data?person={MUM}&month=2026-13")
    assert bad.status_code == 400 and "月份" in bad.json()["error"]
    c.app.state.engine.dispose()


def test_graph_data_refusals_are_json_403(web):
    c = client(web, Clock())
    sign_in(c, "bob")  # 华阳路街道
    r = c.get(f"/graph/data?person={OTHER}&month=2026-10")
    assert r.status_code == 403 and "街镇" in r.json()["error"]
    c = client(web, Clock())
    sign_in(c, "ole")
    r = c.get(f"/graph/data?person={MUM}&month=2026-10&reason=x")
    assert r.status_code == 403 and "无权" in r.json()["error"]
    c.app.state.engine.dispose()


def test_graph_page_carries_the_partial_and_its_static_files(web):
    c = client(web, Clock())
    sign_in(c, "ivy")
    html = c.get(f"/graph?person={MUM}").text  # the month defaults to the latest run's
    section = re.search(r"<section class=\"graph\"[^>]*>", html)
    assert section and f'data-person="{MUM}"' in section.group(0) and 'data-month="2026-10"' in section.group(0)
    assert "data-reason" not in section.group(0)
    assert '<script src="/static/graph.js" defer></script>' in html and "<script>" not in html
    assert "亲属与家庭" in html and "卡折代管" in html and "图例" in html
    assert 'data-reason="核查线索"' in c.get(f"/graph?person={MUM}&reason=核查线索").text
    assert "data-graph " not in c.get("/graph").text  # no focus yet: the form only
    js = c.get("/static/graph.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert c.get("/static/graph.css").status_code == 200
    c = client(web, Clock())
    sign_in(c, "ole")
    assert 'name="reason"' not in c.get(f"/graph?person={MUM}").text  # no unmasking for the office
    c.app.state.engine.dispose()


@pytest.fixture
def server(tmp_path):
    """The app in a thread over an audited SQLite store (the browser journey runs once; the service and
    HTTP tests cover PostgreSQL)."""
    url = f"sqlite:///{tmp_path / 'web.db'}"
    make_users(url)
    audit(url, tmp_path)
    with served(create_app(url)) as base:
        yield base


@pytest.mark.browser
@pytest.mark.slow
def test_graph_in_chromium_draws_expands_and_filters(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{server}/login")
        page.fill("#name", "ivy")
        page.fill("#password", "Initial-pass-2026")
        page.click("button.primary")
        page.goto(f"{server}/graph?person={MUM}&month=2026-10")
        graph = page.locator("section[data-graph]")
        page.wait_for_selector("section[data-graph][data-state=ready]")
        first = int(graph.get_attribute("data-node-count") or 0)
        assert first >= 8 and page.locator(".gnode").count() == first
        assert page.locator(".graph-view .gnode-shape.hot").count() >= 1  # the K01 relative
        assert "K01" in page.inner_text(".graph-finding-list")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "graph.png"), full_page=True)

        before = page.locator(".graph-view").get_attribute("transform")
        box = page.locator(".graph-canvas").bounding_box()
        assert box
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(100)
        assert page.locator(".graph-view").get_attribute("transform") != before  # zoomed
        page.mouse.move(box["x"] + 12, box["y"] + 12)
        page.mouse.down()
        page.mouse.move(box["x"] + 112, box["y"] + 62, steps=5)
        page.mouse.up()
        zoomed = page.locator(".graph-view").get_attribute("transform")
        page.click("button[data-zoom=fit]")
        assert page.locator(".graph-view").get_attribute("transform") != zoomed  # panned, then fitted again

        page.locator(".gnode", has_text="王建国").click()
        page.wait_for_selector(f"section[data-graph][data-state=ready]:not([data-node-count='{first}'])")
        expanded = int(graph.get_attribute("data-node-count") or 0)
        assert expanded > first and page.locator(".gnode", has_text="钱代管").count() == 1
        assert "王建国" in page.inner_text(".graph-selected")
        page.screenshot(path=str(SHOTS / "graph-expanded.png"), full_page=True)

        page.uncheck("input[name=graph-kind][value=phone]")
        page.wait_for_selector(f"section[data-graph][data-state=ready]:not([data-node-count='{expanded}'])")
        assert int(graph.get_attribute("data-node-count") or 0) < expanded
        assert page.locator(".graph-view .gedge.kind-phone").count() == 0 and page.locator(".gnode", has_text="钱代管").count() == 1
        drawn = page.inner_html(".graph-body")  # masked for the inspector who gave no reason
        assert not [s for s in SECRETS if s in drawn]
        assert not errors, errors  # no CSP violations or failed loads

        street = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        street.goto(f"{server}/login")
        street.fill("#name", "bob")
        street.fill("#password", "Initial-pass-2026")
        street.click("button.primary")
        street.goto(f"{server}/graph?person={OTHER}&month=2026-10")  # a person of another street
        street.wait_for_selector("section[data-graph][data-state=error]")
        assert "街镇经办只能查看本街镇人员" in street.inner_text(".graph-message")
        assert street.locator(".graph-view .gnode").count() == 0
        browser.close()
