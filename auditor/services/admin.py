"""Users and the access log: accounts with roles, and the verification of the hash chain."""

from __future__ import annotations

from dataclasses import dataclass

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.followup import privacy
from auditor.followup.privacy import User, log_access
from auditor.services.session import Session, open_session


def add_user(db_url: str | None, acting: str | None, *, name: str, role: str, street: str | None) -> User:
    """Add a user; the first user of a store must be an auditor and acts for themself."""
    engine = store.connect(db_url)
    if privacy.count_users(engine) == 0:
        if role != "auditor":
            raise AuditInputError("第一个用户必须是 auditor (the first user must be an auditor)")
        user = privacy.add_user(engine, name, role, street)
        log_access(engine, user, "users.add", target=name, detail={"role": role})
        return user
    s = open_session(db_url, acting)
    s.require("users", "users.add", target=name)
    user = privacy.add_user(s.engine, name, role, street)
    log_access(s.engine, s.user, "users.add", target=name, detail={"role": role, "street": street})
    return user


def list_users(s: Session) -> list[User]:
    s.require("users", "users.list")
    log_access(s.engine, s.user, "users.list")
    return privacy.list_users(s.engine)


@dataclass(frozen=True)
class LogCheck:
    entries: int
    broken_at: int | None
    detail: str  # why it broke, or the head hash when intact


def verify_access_log(s: Session) -> LogCheck:
    """Check the whole chain; an intact check is itself logged."""
    s.require("verify", "access_log.verify")
    checked, broken, why = privacy.verify_log(s.engine)
    if broken is None:
        log_access(s.engine, s.user, "access_log.verify", detail={"entries": checked})
    return LogCheck(checked, broken, why)
