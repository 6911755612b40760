"""Time the inspector's pages over a store a benchmark run has filled: search, a person's page and the
worklist, each as a page through the Starlette TestClient (sign-in, role checks, masking, access log).

``measure(db_url, snapshot_root, month, months=1)`` returns ``search_ms``, ``person_page_ms`` and
``worklist_ms`` (medians) and their 90th percentiles. With ``months > 1`` it first makes the store look
like that many months of runs cheaply (``fill_months``): the run's occurrences and people-per-finding
rows are copied under the earlier months by SQL (``INSERT … SELECT``), and its snapshot's people index
and manifest under a new run id per month (pages read only the index). ``benchmarks/bench.py`` calls it
with 12 months at city scale, 1 elsewhere.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import time
from pathlib import Path

import polars as pl
from sqlalchemy import insert, literal, select, text
from starlette.testclient import TestClient

from auditor import store
from auditor.core.config import load_profile
from auditor.core.periods import month_add
from auditor.followup import accounts
from auditor.jobs.people_index import INDEX_DIR, has_index, read_index
from auditor.jobs.snapshot import MANIFEST, latest_by_month
from auditor.services.admin import add_user
from auditor.services.search import token_of
from auditor.web.app import create_app

PASSWORD = "Bench-pages-2026"
USER = "bench-inspector"
SAMPLE = 25


def fill_months(db_url: str, root: Path, month: str, months: int) -> None:
    """Copy ``month``'s stored findings and snapshot index under the ``months - 1`` months before it."""
    engine = store.connect(db_url)
    oc, fp, runs = store.occurrences, store.finding_people, store.runs
    source = latest_by_month(root)[month]
    manifest = json.loads((source / MANIFEST).read_text("utf-8"))
    with engine.begin() as conn:
        run = conn.execute(select(runs).where(runs.c.month == month).order_by(runs.c.run_id.desc())).mappings().first()
        assert run is not None, f"no run of {month} in the store"
        for k in range(1, months):
            m = month_add(month, -k)
            values = {k: v for k, v in run.items() if k != "run_id"} | {"month": m}
            run_id = conn.execute(insert(runs).values(values).returning(runs.c.run_id)).scalar_one()
            cols = [c.name for c in oc.columns]
            conn.execute(insert(oc).from_select(cols, select(
                *(literal(m, oc.c.month.type).label("month") if c == "month" else
                  literal(run_id, oc.c.run_id.type).label("run_id") if c == "run_id" else oc.c[c] for c in cols))
                .where(oc.c.month == month)))
            conn.execute(insert(fp).from_select(["finding_id", "month", "person_id", "role"], select(
                fp.c.finding_id, literal(m, fp.c.month.type), fp.c.person_id, fp.c.role).where(fp.c.month == month)))
            folder = root / str(run_id)
            folder.mkdir(mode=0o700)
            shutil.copytree(source / INDEX_DIR, folder / INDEX_DIR)
            (folder / MANIFEST).write_text(json.dumps(manifest | {"run_id": run_id, "month": m}), "utf-8")
        conn.execute(store.findings.update().values(first_month=month_add(month, 1 - months)))
        if engine.dialect.name == "postgresql":
            conn.execute(text("analyze occurrences; analyze finding_people; analyze findings"))
    engine.dispose()


def _client(db_url: str, root: Path) -> TestClient:
    engine = store.connect(db_url)
    with engine.connect() as conn:
        names = set(conn.execute(select(store.users.c.name)).scalars())
    if USER not in names:
        add_user(db_url, USER, name=USER, role="inspector" if names else "auditor", street=None, password=PASSWORD)
    accounts.set_password(engine, USER, PASSWORD, must_change=False)
    engine.dispose()
    profile = load_profile(None).model_copy(update={"snapshot_dir": str(root)})
    c = TestClient(create_app(db_url, profile), follow_redirects=False)
    c.get("/login")
    r = c.post("/login", data={"name": USER, "password": PASSWORD, "csrf": c.cookies.get("auditor_login_csrf")})
    assert r.status_code == 303, r.status_code
    return c


def _sample(db_url: str, root: Path, month: str, seed: int = 20) -> tuple[list[str], list[str]]:
    """Resident ids to open (half with findings, half from the snapshot only) and mixed search queries."""
    rnd = random.Random(seed)
    engine = store.connect(db_url)
    with engine.connect() as conn:
        flagged = conn.execute(select(store.finding_people.c.person_id).where(store.finding_people.c.month == month)
                               .distinct().order_by(store.finding_people.c.person_id)).scalars().all()
    engine.dispose()
    assert flagged, f"no findings of {month} in the store at {db_url}: the pages would be timed on nothing"
    kinds = ("person", "name", "staff", "account", "phone", "case")
    found: dict[str, set[str]] = {kind: set() for kind in kinds}
    for part in read_index(latest_by_month(root)[month], ["key", "kind"]):  # part by part: bounded memory
        for kind in kinds:
            some = part.filter(pl.col("kind") == kind)["key"].unique()
            found[kind] |= set(some.sample(min(200, some.len()), seed=seed).to_list())
    keys = {kind: sorted(found[kind]) for kind in kinds}
    if not any(keys.values()):
        keys["person"] = sorted(flagged)
    half = SAMPLE // 2
    people = rnd.sample(list(flagged), min(half, len(flagged)))
    people += rnd.sample(keys["person"], min(SAMPLE - len(people), len(keys["person"])))
    queries = [rnd.choice(keys[kind]) for kind in keys for _ in range(4) if keys[kind]]
    return people, queries


def _timed(call: object, n: int) -> list[float]:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        r = call(i)  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.status_code
    return times


def _p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


def wait_for_index(root: Path, month: str, timeout_s: float = 1800) -> float:
    """Seconds until ``month``'s snapshot has its people index (a large drop's is built by a child process)."""
    t0 = time.perf_counter()
    folder = latest_by_month(root)[month]
    while not has_index(folder):
        if time.perf_counter() - t0 > timeout_s:
            raise TimeoutError(f"no people index in {folder} after {timeout_s:.0f} s")
        time.sleep(0.5)
    return time.perf_counter() - t0


def measure(db_url: str, root: Path, month: str, *, months: int = 1) -> dict[str, object]:
    """The three page timings (ms) over the store at ``db_url`` and the snapshots under ``root``."""
    waited = wait_for_index(root, month)
    if months > 1:
        fill_months(db_url, root, month, months)
    people, queries = _sample(db_url, root, month)
    c = _client(db_url, root)
    csrf = c.get("/search").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    tokens = [token_of(p) for p in people]
    c.get(f"/people/{tokens[0]}")  # warm: first scans open the files, first queries plan
    search = _timed(lambda i: c.post("/search", data={"csrf": csrf, "q": queries[i % len(queries)]}), len(queries))
    person = _timed(lambda i: c.get(f"/people/{tokens[i]}"), len(tokens))
    views = ["/findings", "/findings?sort=amount", "/findings?status=new&page=3", "/findings?sort=due"]
    worklist = _timed(lambda i: c.get(views[i % len(views)]), 4 * len(views))
    c.app.state.engine.dispose()  # type: ignore[attr-defined]
    result = {"search_ms": statistics.median(search), "person_page_ms": statistics.median(person),
              "worklist_ms": statistics.median(worklist)}
    return {k: round(v, 1) for k, v in result.items()} | {"pages": {
        "months_in_store": months, "index_wait_s": round(waited, 1), "samples": {"search": len(search), "person": len(person), "worklist": len(worklist)},
        "p90_ms": {"search": round(_p90(search), 1), "person_page": round(_p90(person), 1),
                   "worklist": round(_p90(worklist), 1)}}}
