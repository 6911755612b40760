"""The auditor's month in Chromium: upload the demo drop (with a bad row), watch the run stage by stage
(the page refreshes itself, no script), read the run's page, browse its quarantine (masked) and download
the 问题清单. Screenshots go to ``screenshots/``."""

from __future__ import annotations

import io
import re
import threading

import pytest
from openpyxl import load_workbook

from auditor.jobs import monthly
from auditor.web.app import create_app
from tests.runs_helpers import BAD_ID, MONTH, demo_drop, web_profile, zipped
from tests.test_web_browser import SHOTS, browser  # noqa: F401
from tests.test_web_findings_browser import open_as
from tests.web_helpers import cheap_hashes, make_users, served  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FID = re.compile(r"^[A-Z]\d{2}-[0-9A-F]{12}$")


@pytest.fixture
def gate(monkeypatch):
    """Holds a run after it has loaded its data until the test opens the gate (to see it mid-run)."""
    opened = threading.Event()
    real = monthly.checkpoint

    def checkpoint(name: str) -> None:
        if name == "load":
            assert opened.wait(60), "the test never opened the gate"
        real(name)

    monkeypatch.setattr(monthly, "checkpoint", checkpoint)
    return opened


@pytest.fixture
def base(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'web.db'}"
    make_users(db_url)
    app = create_app(db_url, web_profile(tmp_path))
    with served(app) as base:
        yield base
    app.state.engine.dispose()


def test_the_auditor_uploads_watches_browses_and_downloads(base, browser, gate, tmp_path):  # noqa: F811
    SHOTS.mkdir(exist_ok=True)
    archive = tmp_path / f"{MONTH}.zip"
    archive.write_bytes(zipped(demo_drop(tmp_path), prefix=f"{MONTH}/"))
    page, errors = open_as(browser, base, "alice")
    page.click("nav >> text=审计运行")
    assert page.url == f"{base}/runs" and "尚无运行记录" in page.inner_text("main")
    page.fill("input[name=month]", MONTH)
    page.set_input_files("input[name=files]", str(archive))
    page.screenshot(path=str(SHOTS / "runs-upload.png"), full_page=True)
    page.click("button:has-text('上传并开始审计')")
    assert re.fullmatch(rf"{base}/runs/jobs/[0-9a-f]{{12}}", page.url)
    page.wait_for_selector("tr.stage-done >> text=读取数据")
    assert "运行中" in page.inner_text("#job-status")
    assert page.locator("meta[http-equiv=refresh]").count() == 1
    page.screenshot(path=str(SHOTS / "runs-progress.png"), full_page=True)

    gate.set()
    page.wait_for_selector("text=查看运行结果", timeout=120_000)  # reached by the page refreshing itself
    assert page.locator("tr.stage-done").count() == 5 and page.locator("meta[http-equiv=refresh]").count() == 0
    page.screenshot(path=str(SHOTS / "runs-done.png"), full_page=True)
    page.click("text=查看运行结果")
    assert re.fullmatch(rf"{base}/runs/\d+", page.url)
    main = page.inner_text("main")
    assert "救助案件" in main and "未运行的检查及原因" in main and "按规则的问题线索" in main
    total = int(page.inner_text(".stat .stat-value >> nth=2"))
    page.screenshot(path=str(SHOTS / "run-page.png"), full_page=True)
    run_url = page.url

    page.click("a[href$='quarantine?table=cases']")
    rows = page.locator("table.quarantine tbody tr")
    assert rows.count() == 3
    html = page.content()
    assert "310105********2775" in html and BAD_ID not in html and "身份证号校验位错误" in html
    page.screenshot(path=str(SHOTS / "run-quarantine.png"), full_page=True)

    page.goto(run_url)
    with page.expect_download() as download:
        page.click("ul.downloads a:has-text('问题清单')")
    assert re.fullmatch(rf"run\d+-{MONTH}-issues\.xlsx", download.value.suggested_filename)
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))  # noqa: SIM115
    assert book.sheetnames[0] == "汇总" and len(book.sheetnames) > 1
    ids = []
    for sheet in book.worksheets[1:]:
        values = [r for r in sheet.iter_rows(values_only=True)]
        header = next(i for i, r in enumerate(values) if r and r[0] == "问题编号")
        ids += [r[0] for r in values[header + 1:] if r and r[0]]
        assert not any(BAD_ID in str(c) for r in values for c in r if c)
    assert len(ids) == total and all(FID.match(i) for i in ids), ids[:3]
    assert not errors, errors
    page.close()
