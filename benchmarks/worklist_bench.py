"""Benchmark the worklist page (``/findings``) with many findings in the store.

``python benchmarks/worklist_bench.py [--db URL] [--findings 100000] [--repeats 15]``

Fills a fresh store (default: a SQLite file in a temporary folder; with a PostgreSQL URL, a throwaway schema) with
synthetic findings of one month through ``recurrence.save_run`` (the monthly job's bulk path), signs in an
auditor and a street officer with the TestClient, and prints the median response time of several worklist
views (first page, a street, a filter, a late page sorted by amount). Target: under 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from auditor import store  # noqa: E402
from auditor.core.config import load_profile  # noqa: E402
from auditor.engine.runner import empty_findings  # noqa: E402
from auditor.followup import accounts, recurrence  # noqa: E402
from auditor.services.admin import add_user  # noqa: E402
from auditor.web.app import create_app  # noqa: E402

PASSWORD = "Bench-pass-2026"
MONTH = "2026-10"


def synthetic(n: int, streets: list[str]) -> pl.DataFrame:
    """``n`` findings of ``MONTH`` spread over rules, severities and ``streets``; no Python loop over rows."""
    i = pl.int_range(0, n, eager=True)
    person = pl.concat_str(pl.lit("3101051990"), pl.col("i").cast(pl.String).str.zfill(8))
    frame = pl.DataFrame({"i": i}).with_columns(
        finding_id=pl.format("B{}-{}", (pl.col("i") % 8 + 1), pl.col("i").cast(pl.String).str.zfill(10)),
        rule=pl.format("R0{}", pl.col("i") % 8 + 1),
        severity=pl.lit(["high", "medium", "low"]).list.get(pl.col("i") % 3),
        month=pl.lit(MONTH),
        street=pl.lit(streets).list.get(pl.col("i") % len(streets)),
        program=pl.lit("dibao"), person_id=person, case_id=pl.format("C{}", pl.col("i")),
        staff_id=pl.lit(None, pl.String), bank_account=pl.lit("6222021000000002011"),
        application_id=pl.lit(None, pl.String), record_id=pl.lit(None, pl.String),
        amount_fen=(pl.col("i") * 37 % 500000 + 100).cast(pl.Int64),
        title=pl.concat_str(pl.lit("领款人"), person, pl.lit(f" 低保 {MONTH}：无指令支付")),
        evidence=pl.concat_str(pl.lit('{"person_id": "'), person, pl.lit('", "program": "dibao"}')),
    )
    return frame.select(empty_findings().columns).cast(dict(empty_findings().schema))  # type: ignore[arg-type]


@contextmanager
def scratch(db_url: str | None, tmp: Path) -> Iterator[str]:
    """A new SQLite file, or a throwaway schema of the PostgreSQL database ``db_url`` (dropped afterwards)."""
    if not db_url:
        yield f"sqlite:///{tmp / 'worklist.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(db_url)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    try:
        yield f"{db_url}{'&' if '?' in db_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


def fill(db_url: str, n: int, streets: list[str]) -> float:
    engine = store.connect(db_url)
    t0 = time.perf_counter()
    recurrence.save_run(engine, month=MONTH, profile="bench", data_dir="synthetic", started_at=datetime.now(UTC),
                        frame=synthetic(n, streets), summary={"month": MONTH})
    took = time.perf_counter() - t0
    if engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load: fresh statistics
        with engine.begin() as conn:
            conn.execute(text("analyze findings; analyze occurrences"))
    for name, role, street in (("aud", "auditor", None), ("st", "street", streets[0])):
        add_user(db_url, "aud", name=name, role=role, street=street, password=PASSWORD)
        accounts.set_password(engine, name, PASSWORD, must_change=False)
    engine.dispose()
    return took


def signed_in(db_url: str, name: str) -> TestClient:
    c = TestClient(create_app(db_url), follow_redirects=False)
    c.get("/login")
    token = c.cookies.get("auditor_login_csrf")
    assert c.post("/login", data={"name": name, "password": PASSWORD, "csrf": token}).status_code == 303
    return c


def median_ms(c: TestClient, url: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = c.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="store URL (default: a new SQLite file)")
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args(argv)
    streets = load_profile(None).streets
    with tempfile.TemporaryDirectory() as tmp, scratch(args.db, Path(tmp)) as db_url:
        print(f"store: {db_url.split(':')[0]}, {args.findings:,} findings; filling ...", flush=True)
        print(f"  save_run: {fill(db_url, args.findings, streets):.1f} s", flush=True)
        views = [("aud", "/findings"), ("aud", f"/findings?street={streets[1]}"),
                 ("aud", "/findings?rule=R03&severity=high&status=new"),
                 ("aud", "/findings?sort=amount&page=200"), ("st", "/findings"),
                 ("st", "/findings?sort=due&page=20")]
        clients = {name: signed_in(db_url, name) for name in ("aud", "st")}
        for name, url in views:
            print(f"  {name:<4}{url:<48}{median_ms(clients[name], url, args.repeats):8.0f} ms (median)", flush=True)
        for c in clients.values():
            c.app.state.engine.dispose()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
