"""Shared fixtures: database URLs for SQLite and PostgreSQL, the demo run.

PostgreSQL tests use ``AUDITOR_TEST_PG_URL`` (default: this machine's
127.0.0.1:5432 database ``test``), each test in a schema of its own. When the
server cannot be reached the PostgreSQL tests are skipped locally but fail in
CI (``CI`` set), so CI never passes without having run them.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("AUDITOR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means unavailable
        return str(exc).splitlines()[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database of each kind; PostgreSQL gets a throwaway schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'auditor.db'}"
        return
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'drop schema "{schema}" cascade'))
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def access_log_key(tmp_path_factory):
    """The access log's key and anchors live in a temp folder, not under the working directory."""
    with pytest.MonkeyPatch.context() as mp:
        key = tmp_path_factory.mktemp("access-log") / "keys" / "access-log.key"
        mp.setenv("AUDITOR_ACCESS_LOG_KEY", str(key))
        yield key


@pytest.fixture(scope="session", autouse=True)
def server_snapshot_dir(tmp_path_factory):
    """Snapshots of runs on PostgreSQL (default ``out/snapshots``) go to a temp folder, not the work tree."""
    from auditor.jobs import snapshot

    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("snapshots")
        mp.setattr(snapshot, "SERVER_DEFAULT", folder)
        yield folder


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The demo drop generated and audited once per test session."""
    from auditor.core.config import load_profile
    from auditor.demo import generate
    from auditor.jobs.monthly import run_audit

    base: Path = tmp_path_factory.mktemp("demo")
    district = generate(base / "drop", month="2026-10", n_cases=800)
    result = run_audit(month="2026-10", data_dir=base / "drop", out_dir=base / "out",
                       profile=load_profile(None), db_url=f"sqlite:///{base / 'auditor.db'}")
    return district, result, base


# Hypothesis: reproducible in CI (derandomized, no example database), no per-example deadline
# (2 shared cores); budgets are each test's own max_examples.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def users_db(tmp_path):
    """A SQLite store with one user of each role (``tests.followup_helpers.add_users``)."""
    from tests.followup_helpers import add_users

    url = f"sqlite:///{tmp_path / 'users.db'}"
    add_users(url)
    return url
