"""Web sessions: server-side, revocable, with idle and absolute limits and a CSRF token each.

The cookie holds a random token; the store keeps only its SHA-256 (``sessions.id_hash``), the
user, the session's CSRF token, when it began and when it was last used. A session ends when it
is revoked (sign-out, the user disabled or reset), idle longer than ``web.idle_minutes``, older
than ``web.absolute_hours``, or when its user is disabled. Times come from the caller's clock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from auditor import store
from auditor.core.config import WebSettings
from auditor.followup.accounts import Account, get_account, utc

SESSION_COOKIE = "auditor_session"
LOGIN_CSRF_COOKIE = "auditor_login_csrf"  # double-submit token of the sign-in form (no session yet)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two tokens; a missing one never matches."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


@dataclass(frozen=True)
class WebSession:
    id_hash: str
    csrf: str
    account: Account
    created_at: datetime


def create(engine: Engine, name: str, web: WebSettings, now: datetime) -> str:
    """Start a session for ``name``; return the cookie token (shown to nobody else, stored hashed).

    Sessions past their absolute lifetime can never come back, so each sign-in also deletes them:
    the table holds live and recently ended sessions only."""
    token = new_token()
    with engine.begin() as conn:
        conn.execute(delete(store.sessions).where(
            store.sessions.c.created_at < now - timedelta(hours=web.absolute_hours)))
        conn.execute(insert(store.sessions).values(id_hash=token_hash(token), user_name=name, csrf=new_token(),
                                                   created_at=now, last_seen=now, revoked=False))
    return token


def current(engine: Engine, token: str | None, web: WebSettings, now: datetime) -> WebSession | None:
    """The live session of ``token`` (and mark it used), or None; an expired one is revoked for good."""
    if not token:
        return None
    sessions = store.sessions
    id_hash = token_hash(token)
    with engine.connect() as conn:
        row = conn.execute(select(sessions).where(sessions.c.id_hash == id_hash)).mappings().first()
    if row is None or row["revoked"]:
        return None
    created, last_seen = utc(row["created_at"]), utc(row["last_seen"])
    assert created is not None and last_seen is not None
    account = get_account(engine, row["user_name"])
    if (now - last_seen > timedelta(minutes=web.idle_minutes) or now - created > timedelta(hours=web.absolute_hours)
            or account is None or account.disabled):
        revoke(engine, id_hash)
        return None
    with engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.id_hash == id_hash).values(last_seen=now))
    return WebSession(id_hash, row["csrf"], account, created)


def revoke(engine: Engine, id_hash: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(store.sessions).where(store.sessions.c.id_hash == id_hash).values(revoked=True))


def revoke_others(engine: Engine, name: str, keep: str) -> None:
    """End every session of ``name`` but ``keep`` (after a password change)."""
    sessions = store.sessions
    with engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.user_name == name, sessions.c.id_hash != keep)
                     .values(revoked=True))
