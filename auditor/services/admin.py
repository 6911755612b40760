"""Users and the access log: accounts with roles, verifying and re-anchoring the keyed chain."""

from __future__ import annotations

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.followup import accesslog, privacy
from auditor.followup.accesslog import LogCheck, log_access
from auditor.followup.privacy import User
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
    s.user.require("users")
    user = privacy.add_user(s.engine, name, role, street)
    log_access(s.engine, s.user, "users.add", target=name, detail={"role": role, "street": street})
    return user


def list_users(s: Session) -> list[User]:
    s.user.require("users")
    log_access(s.engine, s.user, "users.list")
    return privacy.list_users(s.engine)


def verify_access_log(s: Session, *, reanchor: bool = False) -> LogCheck:
    """Check the log against the key and the anchor; an intact check is itself logged.

    With ``reanchor`` (auditors only) a log whose entries all verify but whose
    anchor is behind or missing is anchored at its head, and that is logged.
    """
    s.user.require("verify")
    if not reanchor:
        check = accesslog.verify_log(s.engine)
        if check.state == "intact":
            log_access(s.engine, s.user, "access_log.verify", detail={"entries": check.entries})
        return check
    s.user.require("reanchor")
    check, old = accesslog.reanchor(s.engine)
    if check.state == "intact":
        log_access(s.engine, s.user, "access_log.reanchor", detail={"from_seq": old, "to_seq": check.head_seq})
    return check
