"""The inspector's journey in Chromium (issue 20): search a resident id that appears only in another person's
evidence, open the person page, expand its relationship graph, unmask it with a reason, and find that view in the access log.

The journey is a list of steps (``STEPS``) over one page, so a step (say, expanding the relationship graph
once it is on the person page) slots in between two others. Screenshots go to ``screenshots/`` (or
``$AUDITOR_SHOTS``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from auditor import store
from auditor.core.config import load_profile
from auditor.ingest.loader import Drop
from auditor.ingest.schema import TABLES
from auditor.jobs import snapshot
from auditor.web.app import create_app
from tests.followup_helpers import PID_A, PID_B, finding, save
from tests.test_search import HIDDEN, OTHER, PID_C, tables
from tests.test_web_browser import ARGS, CHROMIUM
from tests.web_helpers import PASSWORD, cheap_hashes, make_users, served  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(os.environ.get("AUDITOR_SHOTS") or Path(__file__).resolve().parents[1] / "screenshots")
REASON = "纪检核查：亲属关系线索"


def complete(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every column a loaded table has (the contract's, and the dwelling key), empty where missing."""
    wanted = [c.name for c in TABLES[name].columns] + (["address_key"] if name in ("members", "staff") else [])
    return frame.with_columns(pl.lit(None, pl.String).alias(c) for c in wanted if c not in frame.columns)


@pytest.fixture
def server(tmp_path):
    """The app over a store with two months of findings and snapshots; yields its base URL."""
    db_url = f"sqlite:///{tmp_path / 'web.db'}"
    make_users(db_url)
    engine = store.connect(db_url)
    evidence = {"person_id": PID_A, "program": "dibao", "relative_id": HIDDEN, "paid": "1200.00"}
    for month in ("2026-09", "2026-10"):
        save(engine, month, finding(PID_A, evidence=evidence, month=month),
             finding(PID_C, street=OTHER, rule="R02", month=month) | {"case_id": "C2"},
             finding(PID_B, rule="R03", month=month) | {"staff_id": "S0001", "case_id": None})
    engine.dispose()
    root = tmp_path / "snapshots"
    for run_id, month in ((1, "2026-09"), (2, "2026-10")):
        # the kinship data knows HIDDEN as PID_A's spouse: the graph has a neighbour to expand
        kin = {"relations": pl.DataFrame({"person_id": [PID_A], "relative_id": [HIDDEN], "relation": ["spouse"]})}
        drop = Drop(Path("x"), {n: complete(n, f) for n, f in (tables(month) | kin).items()}, {}, pl.DataFrame({"table": [], "reason": []}))
        snapshot.write_snapshot(root, run_id=run_id, month=month, profile=load_profile(None), drop=drop, inputs={})
    profile = load_profile(None).model_copy(update={"snapshot_dir": str(root)})
    with served(create_app(db_url, profile)) as base:
        yield base


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", "ivy")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    assert page.url == f"{base}/"


def search(page, base: str) -> None:
    page.click("nav >> text=人员查询")
    assert page.url == f"{base}/search"
    page.fill("#q", HIDDEN)
    page.click("form[role=search] button")
    people = page.inner_text("#people")
    assert "310105********5678" in people and HIDDEN not in people and "问题线索中的人员" in people
    assert "R01" in page.inner_text("#findings")
    page.screenshot(path=str(SHOTS / "search.png"), full_page=True)


def open_person(page, base: str) -> None:
    page.click("#people >> text=查看人员页")
    assert page.url.startswith(f"{base}/people/") and HIDDEN not in page.url
    assert "310105********5678" in page.inner_text("h1")
    assert "亲属" in page.inner_text("#person-findings")
    assert page.locator("section#graph").count() == 1


def finding_links_back(page, base: str) -> None:
    """The person's finding names them (and the payee) on its page, linked back to their page."""
    person_url = page.url
    page.locator("#person-findings a[href^='/findings/']").first.click()
    assert "/findings/" in page.url
    people = page.inner_text("#people")
    assert "310105********5678" in people and HIDDEN not in page.content()
    page.screenshot(path=str(SHOTS / "finding-people.png"), full_page=True)
    page.click("#people >> text=310105********5678")
    assert page.url == person_url


def expand_graph(page, base: str) -> None:
    graph = page.locator("section#graph section[data-graph]")
    page.wait_for_selector("section#graph section[data-graph][data-state=ready]")
    first = int(graph.get_attribute("data-node-count") or 0)
    assert first >= 2 and HIDDEN not in page.inner_text("section#graph")  # HIDDEN and the spouse, masked
    page.locator(".gnode", has_text="张三").click()  # PID_A: expand to their case, phone, account
    page.wait_for_selector(f"section#graph section[data-graph][data-state=ready]:not([data-node-count='{first}'])")
    assert int(graph.get_attribute("data-node-count") or 0) > first
    assert PID_A not in page.inner_text("section#graph") and HIDDEN not in page.content()
    page.screenshot(path=str(SHOTS / "person-graph.png"), full_page=True)


def unmask(page, base: str) -> None:
    page.click("#unmask button")  # empty reason: the browser's own check keeps the form from going
    assert "/unmask" not in page.url
    page.fill("#reason", REASON)
    page.click("#unmask button")
    assert page.url.endswith("/unmask")
    assert HIDDEN in page.inner_text("h1") and REASON in page.inner_text("#unmasked-note")
    page.screenshot(path=str(SHOTS / "person-unmasked.png"), full_page=True)


def find_view_in_log(page, base: str) -> None:
    page.click("#viewers >> text=在访问日志中查看全部")
    assert page.url.startswith(f"{base}/access-log?person=")
    rows = page.locator(".log-table tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    unmasked = [t for t in texts if "person.view" in t and REASON in t]
    assert len(unmasked) == 1 and "ivy" in unmasked[0] and "是" in unmasked[0]
    assert HIDDEN not in page.inner_text("main")
    page.click("#verify button")
    assert "访问日志完整" in page.inner_text("#verify-result")
    page.screenshot(path=str(SHOTS / "access-log.png"), full_page=True)


STEPS: list[Callable[..., None]] = [sign_in, search, open_person, finding_links_back, expand_graph, unmask,
                                    find_view_in_log]


def test_inspector_searches_opens_unmasks_and_finds_the_view_in_the_log(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for step in STEPS:
        step(page, server)
    assert not errors, errors  # no CSP violations or failed loads
    page.close()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()
