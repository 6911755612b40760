"""Builders for the web tests: a store with one account per role, a clock the test moves, signing in."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auditor import store
from auditor.followup import accounts
from auditor.services.admin import add_user
from auditor.web.app import create_app

PASSWORD = "Initial-pass-2026"
ROLES = {"alice": "auditor", "ivy": "inspector", "ole": "office", "bob": "street"}
STREET = "华阳路街道"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2id with the smallest cost, so tests hash quickly (import this fixture into a test module)."""
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@dataclass
class Clock:
    """Now, moved by the test (no sleeps)."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 2, 1, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_users(db_url: str, *, must_change: bool = False) -> None:
    """alice (auditor), ivy (inspector), ole (office), bob (street officer of 华阳路街道), all with ``PASSWORD``."""
    for name, role in ROLES.items():
        add_user(db_url, "alice", name=name, role=role, street=STREET if role == "street" else None,
                 password=PASSWORD)
    engine = store.connect(db_url)
    if not must_change:
        for name in ROLES:
            accounts.set_password(engine, name, PASSWORD, must_change=False)
    engine.dispose()


def client(db_url: str, clock: Clock, **kw: object) -> TestClient:
    return TestClient(create_app(db_url, clock=clock), follow_redirects=False, **kw)  # type: ignore[arg-type]


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(c: TestClient, name: str, password: str = PASSWORD):
    """GET the sign-in form (its CSRF cookie and field), then POST it; returns the POST's response."""
    token = csrf_of(c.get("/login").text)
    return c.post("/login", data={"name": name, "password": password, "csrf": token})


def session_csrf(c: TestClient) -> str:
    """The signed-in session's CSRF token, read from a page's sign-out form."""
    return csrf_of(c.get("/password").text)


@contextmanager
def served(app: Starlette) -> Iterator[str]:
    """``app`` served by uvicorn on a free local port in a thread, for the browser; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        srv.should_exit = True
        thread.join()
        sock.close()
