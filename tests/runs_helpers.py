"""Builders for the runs-in-the-browser tests: a small demo drop with a bad row, zipped or as files."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

from auditor.core.config import Profile, load_profile
from auditor.demo import generate
from auditor.jobs import drops

BAD_ID = "310105195305202775"  # the first case's payee id with a wrong check digit: quarantined
MONTH = "2026-10"


def demo_drop(folder: Path, cases: int = 120) -> Path:
    """The demo generator's drop (``cases.csv`` is GBK) plus one case whose payee id fails its checksum."""
    drop = folder / "drop"
    generate(drop, month=MONTH, n_cases=cases)
    cases_csv = drop / "cases.csv"
    lines = cases_csv.read_bytes().decode("gbk").splitlines()
    first = lines[1].split(",", 3)
    bad = ",".join(["CN2026-BAD01", first[1], BAD_ID, first[3]])
    cases_csv.write_bytes(("\r\n".join([*lines, bad]) + "\r\n").encode("gbk"))
    return drop


def zipped(drop: Path, prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(drop.iterdir()):
            z.write(p, prefix + p.name)
    return buf.getvalue()


def web_profile(tmp: Path, **web: object) -> Profile:
    """The default profile with its web runs, snapshots and inbox under ``tmp``."""
    base = load_profile(None)
    return base.model_copy(update={
        "web": base.web.model_copy(update={"runs_dir": str(tmp / "web-runs"), **web}),
        "snapshot_dir": str(tmp / "snapshots"),
        "schedule": base.schedule.model_copy(update={"inbox": str(tmp / "inbox"), "out": str(tmp / "sched-out")}),
    })


def wait_for(profile: Profile, job_id: str, seconds: float = 180) -> drops.Job:
    """The job once it has finished (ok, failed), polling its ``job.json``."""
    root = Path(str(profile.web.runs_dir))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        job = drops.load_job(root, job_id)
        assert job is not None
        if job.status not in ("starting", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still running after {seconds}s")
