"""Runs in the browser: the upload's checks, a background run watched stage by stage, the run's page,
its quarantine (masked, logged) and its downloads (logged, safe names); the lock and a crash."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from auditor import store
from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.followup.privacy import User
from auditor.jobs import drops
from auditor.jobs.monthly import month_lock
from auditor.services import runs as svc
from auditor.services.session import Session
from auditor.web.app import create_app
from tests.runs_helpers import BAD_ID, MONTH, demo_drop, wait_for, web_profile, zipped
from tests.web_helpers import Clock, cheap_hashes, make_users, session_csrf, sign_in  # noqa: F401

GBK_CASES = "案件编号,救助类型\r\nCN1,低保\r\n".encode("gbk")


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> Path:
    return demo_drop(tmp_path_factory.mktemp("runs-drop"))


def _zip(members: dict[str, bytes], symlinks: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
        for name in symlinks:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return buf.getvalue()


REQUIRED = {"cases.csv": GBK_CASES, "members.csv": b"x", "payments.xlsx": b"x", "ledger.parquet": b"x"}


# --- the upload's checks (no store needed) ---

def test_table_files_are_accepted_gbk_and_chinese_names_included(tmp_path):
    dest = tmp_path / "drop"
    files = [("救助案件.csv", GBK_CASES), ("members.csv", b"a"), ("payments.xlsx", b"b"), ("ledger.parquet", b"c"),
             ("失信记录.CSV", b"d")]
    taken = drops.unpack(files, dest, unpacked_limit=2**20)
    assert taken == {"cases": "救助案件.csv", "members": "members.csv", "payments": "payments.xlsx",
                     "ledger": "ledger.parquet", "dishonesty": "失信记录.CSV"}
    assert (dest / "救助案件.csv").read_bytes().decode("gbk").startswith("案件编号")
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in dest.iterdir())


@pytest.mark.parametrize(("files", "words"), [
    ([("notes.txt", b"x")] + list(REQUIRED.items()), "notes.txt 不是数据表文件"),
    ([("cases.doc", b"x")] + list(REQUIRED.items()), "cases.doc 不是数据表文件"),
    ([("救助案件.xlsx", b"x")] + list(REQUIRED.items()), "有两个文件"),
    ([("cases.csv", b"x"), ("members.csv", b"x")], "缺少必需的数据表：payments（业务系统发放明细）、ledger"),
    ([("../cases.csv", b"x")], "含路径"),
    ([("drop.zip", _zip(REQUIRED))] + list(REQUIRED.items()), "不要混合"),
    ([], "请选择要上传的数据文件"),
])
def test_bad_uploads_are_refused_in_chinese(tmp_path, files, words):
    with pytest.raises(AuditInputError, match=words):
        drops.unpack(files, tmp_path / "drop", unpacked_limit=2**20)


def test_a_zip_in_a_folder_is_unpacked_flat(tmp_path):
    content = _zip({f"2026-10/{k}": v for k, v in REQUIRED.items()} | {"__MACOSX/2026-10/._cases.csv": b"junk"})
    taken = drops.unpack([("2026-10.zip", content)], tmp_path / "drop", unpacked_limit=2**20)
    assert set(taken) == {"cases", "members", "payments", "ledger"}
    assert sorted(p.name for p in (tmp_path / "drop").iterdir()) == sorted(REQUIRED)


@pytest.mark.parametrize(("members", "links"), [
    ({"../cases.csv": b"x"}, ()),
    ({"2026-10/../../cases.csv": b"x"}, ()),
    ({"/etc/cases.csv": b"x"}, ()),
    ({"C:/cases.csv": b"x"}, ()),
    ({"..\\cases.csv": b"x"}, ()),
    ({}, ("staff.csv",)),
])
def test_archive_paths_that_escape_are_refused(tmp_path, members, links):
    content = _zip(REQUIRED | members, links)
    with pytest.raises(AuditInputError, match="路径指向数据目录之外|符号链接"):
        drops.unpack([("drop.zip", content)], tmp_path / "drop", unpacked_limit=2**20)
    assert not (tmp_path / "cases.csv").exists() and not Path("/etc/cases.csv").exists()


def test_a_zip_bomb_is_bounded(tmp_path):
    bomb = _zip(REQUIRED | {"staff.csv": b"0" * (3 * 2**20)})
    assert len(bomb) < 2**20 // 10  # tiny on the wire
    with pytest.raises(AuditInputError, match="解压后超过 1 MB"):
        drops.unpack([("drop.zip", bomb)], tmp_path / "drop", unpacked_limit=2**20)


def test_gbk_member_names_of_a_windows_zip_are_read_as_gbk():
    info = zipfile.ZipInfo("救助案件.csv".encode("gbk").decode("cp437"))  # as zipfile reads it: no UTF-8 flag
    assert drops._zip_name(info) == "救助案件.csv"


def test_a_job_whose_process_has_gone_shows_as_interrupted(tmp_path):
    job = drops.new_job(tmp_path, month=MONTH, user="alice", source="upload")
    assert drops.load_job(tmp_path, job.job_id).state == "starting"
    child = subprocess.Popen(["true"])  # noqa: S607
    child.wait()  # reaped: no process has its pid any more
    job.pid = child.pid
    job.save()
    assert drops.load_job(tmp_path, job.job_id).state == "interrupted"
    assert drops.load_job(tmp_path, "../" + job.job_id) is None


def test_uploaded_drops_are_deleted_after_the_retention_and_logged(db_url, tmp_path):
    """An upload's raw drop goes once its run ended more than ``upload_retention_days`` ago (its record
    stays and says so); a recent one, a running one and the scheduler's inbox folder stay."""
    from datetime import UTC, datetime, timedelta

    profile = web_profile(tmp_path, upload_retention_days=30)
    root = drops.runs_root(profile, db_url)
    old_day = (datetime.now(UTC) - timedelta(days=31)).isoformat(timespec="seconds")
    jobs = {}
    for name, source, status, finished in [("old", "upload", "ok", old_day), ("failed", "upload", "failed", old_day),
                                           ("recent", "upload", "ok", ""), ("running", "upload", "running", ""),
                                           ("inbox", "inbox", "ok", old_day)]:
        data = tmp_path / "inbox" / name if source == "inbox" else None
        job = drops.new_job(root, month=MONTH, user="alice", source=source, data_dir=data)
        Path(job.data_dir).mkdir(parents=True)
        (Path(job.data_dir) / "cases.csv").write_text("x", "utf-8")
        job.finish(status)
        if finished:
            job.finished_at = finished
        job.status = status
        job.save()
        jobs[name] = job
    make_users(db_url)
    engine = store.connect(db_url)
    svc.prune(Session(engine, User("alice", "auditor")), profile, MONTH, db_url)
    gone = {name for name, job in jobs.items() if not Path(job.data_dir).exists()}
    assert gone == {"old", "failed"}
    kept = drops.load_job(root, jobs["old"].job_id)
    assert kept is not None and kept.drop_deleted_at and (kept.folder / "job.json").is_file()
    assert sorted(e["detail"] for e in _log(db_url, "run.upload.delete")) == sorted(
        json.dumps({"job": jobs[n].job_id, "retention_days": 30}, ensure_ascii=False) for n in ("old", "failed"))
    assert drops.expired_uploads(root, 30) == [] and drops.expired_uploads(root, None) == []
    assert [j.job_id for j in drops.expired_uploads(root, 0)] == [jobs["recent"].job_id]  # 0: once the run ended
    engine.dispose()


def test_the_drop_limits_are_validated_at_load(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('name = "x"\ndistrict = "长宁区"\n[web]\ndrop_upload_mb = 300\ndrop_unpacked_mb = 100\n', "utf-8")
    with pytest.raises(AuditInputError, match="drop_unpacked_mb"):
        load_profile(str(path))
    assert load_profile(None).web.drop_upload_mb == 200


# --- in the web application, on SQLite and PostgreSQL ---

def _client(db_url: str, profile) -> TestClient:
    return TestClient(create_app(db_url, profile, clock=Clock()), follow_redirects=False)


def _signed_in(db_url: str, profile, who: str = "alice") -> TestClient:
    c = _client(db_url, profile)
    assert sign_in(c, who).status_code == 303
    return c


def _log(db_url: str, action: str) -> list[dict]:
    engine = store.connect(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(store.access_log).where(store.access_log.c.action == action)).mappings().all()
    engine.dispose()
    return [dict(r) for r in rows]


def _upload(c: TestClient, content: bytes, month: str = MONTH, name: str = "drop.zip"):
    return c.post("/runs/upload", data={"csrf": session_csrf(c), "month": month},
                  files=[("files", (name, content, "application/zip"))])


def test_upload_run_page_quarantine_and_downloads(db_url, tmp_path, drop):
    make_users(db_url)
    profile = web_profile(tmp_path)
    c = _signed_in(db_url, profile)
    r = _upload(c, zipped(drop))
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].rsplit("/", 1)[1]
    folder = tmp_path / "web-runs" / job_id
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "drop" / "cases.csv").stat().st_mode) == 0o600
    job = wait_for(profile, job_id)
    assert job.status == "ok", job.reason
    assert [s.state for s in job.stages] == ["done"] * 5
    checks = next(s for s in job.stages if s.name == "checks")
    assert checks.total and checks.done == checks.total
    page = c.get(f"/runs/jobs/{job_id}")
    assert page.status_code == 200 and "已完成" in page.text and 'http-equiv="refresh"' not in page.text
    assert f'href="/runs/{job.run_id}"' in page.text

    run = c.get(f"/runs/{job.run_id}")
    assert run.status_code == 200
    assert "救助案件" in run.text and f"/runs/{job.run_id}/quarantine?table=cases" in run.text
    assert f"/findings?rule=R01&amp;month_from={MONTH}&amp;month_to={MONTH}" in run.text
    assert "未运行的检查及原因" in run.text

    q = c.get(f"/runs/{job.run_id}/quarantine?table=cases")
    assert q.status_code == 200
    assert "310105********2775" in q.text and BAD_ID not in q.text and "身份证号校验位错误" in q.text
    assert "第206行" in q.text
    seen = _log(db_url, "run.quarantine")
    assert seen and seen[-1]["target"] == str(job.run_id) and not seen[-1]["unmasked"]
    still = c.get(f"/runs/{job.run_id}/quarantine?table=cases&unmasked=1")  # no reason: stays masked
    assert BAD_ID not in still.text and not _log(db_url, "run.quarantine")[-1]["unmasked"]
    clear = c.get(f"/runs/{job.run_id}/quarantine?table=cases&reason=核对隔离数据")
    last = _log(db_url, "run.quarantine")[-1]
    assert BAD_ID in clear.text and last["unmasked"] and "核对隔离数据" in last["detail"]

    alice = Session(c.app.state.engine, User("alice", "auditor"))
    whole = svc.quarantine_page(alice, job.run_id, profile, db_url, size=1000)
    assert whole.total == len(whole.rows) > 4 and whole.tables == ["cases", "ledger", "payments"]
    n_pages = (whole.total + 1) // 2
    pages = [svc.quarantine_page(alice, job.run_id, profile, db_url, page=n, size=2) for n in range(1, n_pages + 2)]
    assert [len(p.rows) for p in pages] == [2] * (whole.total // 2) + [1] * (whole.total % 2) + [0]
    assert [r for p in pages for r in p.rows] == whole.rows and all(r["reason"] for r in whole.rows)
    assert [(r["table"], r["source_row"]) for r in whole.rows[:3]] == [("cases", 204), ("cases", 204), ("cases", 205)]

    x = c.get(f"/runs/{job.run_id}/files/issues.xlsx")
    assert x.status_code == 200
    assert x.headers["content-disposition"] == f'attachment; filename="run{job.run_id}-{MONTH}-issues.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(x.content))
    assert len(book.sheetnames) >= 2
    got = _log(db_url, "run.download")
    assert [(e["target"], e["unmasked"]) for e in got] == [(f"{job.run_id}/issues.xlsx", False)]
    assert c.get(f"/runs/{job.run_id}/files/findings.csv").status_code == 200
    assert _log(db_url, "run.download")[-1]["unmasked"]
    assert c.get(f"/runs/{job.run_id}/files/..%2Fjob.json").status_code in (400, 404)
    listing = c.get("/runs")
    assert f'href="/runs/jobs/{job_id}"' in listing.text and f'href="/runs/{job.run_id}"' in listing.text
    c.app.state.engine.dispose()


def test_a_second_start_of_a_running_month_gets_a_clear_message(db_url, tmp_path, drop):
    make_users(db_url)
    profile = web_profile(tmp_path)
    c = _signed_in(db_url, profile)
    with month_lock(db_url, MONTH, "someone"):
        r = _upload(c, zipped(drop))
    assert r.status_code == 409
    assert f"审计 {MONTH} 已在运行，不能重复运行" in r.text and "someone" in r.text
    assert "Traceback" not in r.text and '<section class="card">' in r.text  # the runs page, with its forms
    assert not any((tmp_path / "web-runs").iterdir())  # the refused upload is not kept
    c.app.state.engine.dispose()


def test_a_crash_shows_as_a_failed_run_with_its_reason(db_url, tmp_path, drop, monkeypatch):
    make_users(db_url)
    profile = web_profile(tmp_path)
    monkeypatch.setenv("AUDITOR_FAULT", "checks")
    c = _signed_in(db_url, profile)
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in sorted(drop.iterdir())]
    r = c.post("/runs/upload", data={"csrf": session_csrf(c), "month": MONTH}, files=files)
    assert r.status_code == 303
    job = wait_for(profile, r.headers["location"].rsplit("/", 1)[1])
    assert job.files["cases"] == "cases.csv" and len(job.files) == len(files)
    assert job.status == "failed" and "\n" not in job.reason and job.reason
    page = c.get(f"/runs/jobs/{job.job_id}")
    assert page.status_code == 200 and "运行失败" in page.text and job.reason.split(":")[0] in page.text
    assert "Traceback" not in page.text
    assert _log(db_url, "run.failed")[-1]["target"] == MONTH
    c.app.state.engine.dispose()


def test_an_oversized_upload_is_refused(db_url, tmp_path):
    make_users(db_url)
    profile = web_profile(tmp_path, drop_upload_mb=1, drop_unpacked_mb=1)
    c = _signed_in(db_url, profile)
    r = _upload(c, b"0" * (2 * 2**20), name="cases.csv")
    assert r.status_code == 413 and "超过 1 MB" in r.text
    c.app.state.engine.dispose()


def test_an_inbox_month_is_listed_and_run(db_url, tmp_path, drop):
    make_users(db_url)
    profile = web_profile(tmp_path)
    inbox = tmp_path / "inbox" / MONTH
    inbox.parent.mkdir()
    inbox.symlink_to(drop, target_is_directory=True)
    (tmp_path / "inbox" / "2026-09").mkdir()  # not ready: no tables
    c = _signed_in(db_url, profile)
    page = c.get("/runs")
    assert "已就绪" in page.text and "未就绪" in page.text
    r = c.post("/runs/inbox", data={"csrf": session_csrf(c), "month": MONTH})
    assert r.status_code == 303
    job = wait_for(profile, r.headers["location"].rsplit("/", 1)[1])
    assert job.status == "ok" and job.data_dir == str(inbox)
    summary = json.loads((job.out_dir / "run.json").read_text("utf-8"))
    assert summary["run_id"] == job.run_id and summary["tables"]["cases"]["quarantined"] == 2
    r = c.post("/runs/inbox", data={"csrf": session_csrf(c), "month": "2026-09"})
    assert r.status_code == 400 and "没有已就绪的 2026-09 数据包" in r.text
    c.app.state.engine.dispose()


def test_only_auditors_may_start_runs_and_a_refusal_is_logged(db_url, tmp_path):
    make_users(db_url)
    profile = web_profile(tmp_path)
    for who in ("ivy", "ole", "bob"):
        c = _signed_in(db_url, profile, who)
        assert c.get("/runs").status_code == 403
        c.app.state.engine.dispose()
    assert {e["actor"] for e in _log(db_url, "web.denied")} == {"ivy", "ole", "bob"}
