"""Accounts: Argon2id password hashes, the password policy, one-time passwords, lockout and disabling.

A user's row in ``users`` (``auditor.followup.privacy``) carries the account state: the
password hash (none: the user cannot sign in on the web), ``must_change`` (an initial or
reset password, to be changed at the next sign-in), failed sign-ins in a row, ``locked_until``
and ``disabled``. Disabling or resetting an account revokes its web sessions.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from auditor import store
from auditor.core.config import WebSettings
from auditor.core.errors import AuditInputError
from auditor.followup.privacy import User, check_role

HASHER = PasswordHasher()  # Argon2id with the library's (RFC 9106 low-memory) parameters
# the hash an unknown name is checked against, so a wrong name costs as much time as a wrong password
_DUMMY_HASH = HASHER.hash(secrets.token_hex(16))
CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
_UNAMBIGUOUS = {"lower": "abcdefghijkmnpqrstuvwxyz", "upper": "ABCDEFGHJKLMNPQRSTUVWXYZ", "digit": "23456789",
                "other": "-_.+=@#%"}


def utc(at: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite hands back naive datetimes)."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    street: str | None
    password_hash: str | None
    must_change: bool
    failed_count: int
    locked_until: datetime | None
    disabled: bool
    created_at: datetime

    @property
    def user(self) -> User:
        return User(self.name, self.role, self.street)

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def get_account(engine: Engine, name: str) -> Account | None:
    with engine.connect() as conn:
        r = conn.execute(select(store.users).where(store.users.c.name == name)).mappings().first()
    return _account(r) if r is not None else None


def list_accounts(engine: Engine) -> list[Account]:
    with engine.connect() as conn:
        rows = conn.execute(select(store.users).order_by(store.users.c.name)).mappings().all()
    return [_account(r) for r in rows]


def _account(r: object) -> Account:
    m = dict(r)  # type: ignore[call-overload]
    created = utc(m["created_at"])
    assert created is not None
    return Account(m["name"], m["role"], m["street"], m["password_hash"], bool(m["must_change"]),
                   int(m["failed_count"]), utc(m["locked_until"]), bool(m["disabled"]), created)


def require_account(engine: Engine, name: str) -> Account:
    account = get_account(engine, name)
    if account is None:
        raise AuditInputError(f"用户 {name} 不存在 (unknown user)")
    return account


def policy_problem(password: str, web: WebSettings) -> str | None:
    """Why ``password`` breaks the policy (Chinese), or None."""
    classes = sum(any(c in cls for c in password) for cls in CLASSES) + any(
        not (c.isascii() and c.isalnum()) for c in password)
    if len(password) < web.min_length or classes < web.min_classes:
        return (f"密码须至少 {web.min_length} 位，并包含小写字母、大写字母、数字、其他字符中的"
                f"至少 {web.min_classes} 类 "
                f"(password: at least {web.min_length} characters from {web.min_classes} of 4 classes)")
    return None


def check_policy(password: str, web: WebSettings) -> None:
    problem = policy_problem(password, web)
    if problem:
        raise AuditInputError(problem)


def one_time_password(web: WebSettings) -> str:
    """A random password meeting the policy (one of each class, unambiguous characters)."""
    length = max(web.min_length, 16)
    pools = list(_UNAMBIGUOUS.values())
    chars = [secrets.choice(pool) for pool in pools]
    chars += [secrets.choice("".join(pools)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def set_password(engine: Engine, name: str, password: str, *, must_change: bool) -> None:
    """Store a new password hash; clears failures and lockout."""
    require_account(engine, name)
    with engine.begin() as conn:
        conn.execute(update(store.users).where(store.users.c.name == name).values(
            password_hash=HASHER.hash(password), must_change=must_change, failed_count=0, locked_until=None))


def revoke_sessions(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(store.sessions).where(store.sessions.c.user_name == name).values(revoked=True))


def reset(engine: Engine, name: str, web: WebSettings) -> str:
    """A new one-time password (to be changed at the next sign-in); unlocks and ends the user's sessions."""
    password = one_time_password(web)
    set_password(engine, name, password, must_change=True)
    revoke_sessions(engine, name)
    return password


def disable(engine: Engine, name: str) -> None:
    """Disable the account and end its sessions."""
    require_account(engine, name)
    with engine.begin() as conn:
        conn.execute(update(store.users).where(store.users.c.name == name).values(disabled=True))
    revoke_sessions(engine, name)


def enable(engine: Engine, name: str) -> None:
    require_account(engine, name)
    with engine.begin() as conn:
        conn.execute(update(store.users).where(store.users.c.name == name).values(disabled=False))


def set_role(engine: Engine, name: str, role: str, street: str | None) -> User:
    """Change a user's role and street (a street officer is bound to exactly one street)."""
    require_account(engine, name)
    check_role(role, street)
    with engine.begin() as conn:
        conn.execute(update(store.users).where(store.users.c.name == name).values(role=role, street=street))
    return User(name, role, street)


class Outcome(Enum):
    OK = "ok"
    BAD = "bad"  # unknown name, no password set, or wrong password
    LOCKED = "locked"  # refused: the account is locked
    LOCKED_NOW = "locked_now"  # this failure locked it
    DISABLED = "disabled"


def sign_in(engine: Engine, name: str, password: str, web: WebSettings,
            now: datetime) -> tuple[Outcome, Account | None]:
    """Check a name and password against the account, counting failures and locking after too many."""
    account = get_account(engine, name)
    if account is None or account.password_hash is None:
        _verify(_DUMMY_HASH, password)
        return Outcome.BAD, account
    if account.disabled:
        return Outcome.DISABLED, account
    if account.locked(now):
        return Outcome.LOCKED, account
    if _verify(account.password_hash, password):
        values: dict[str, object] = {"failed_count": 0, "locked_until": None}
        if HASHER.check_needs_rehash(account.password_hash):  # hashed under older parameters
            values["password_hash"] = HASHER.hash(password)
        with engine.begin() as conn:
            conn.execute(update(store.users).where(store.users.c.name == name).values(**values))
        return Outcome.OK, account
    users = store.users
    with engine.begin() as conn:
        failed = conn.execute(update(users).where(users.c.name == name)
                              .values(failed_count=users.c.failed_count + 1)
                              .returning(users.c.failed_count)).scalar_one()
        if failed >= web.max_failures:
            conn.execute(update(users).where(users.c.name == name).values(
                failed_count=0, locked_until=now + timedelta(minutes=web.lockout_minutes)))
            return Outcome.LOCKED_NOW, account
    return Outcome.BAD, account


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
