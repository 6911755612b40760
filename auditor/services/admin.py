"""Users and the access log: accounts with roles and passwords, verifying and re-anchoring the keyed chain.

Auditors administer accounts (create, reset, disable, change role or street); every change is logged.
A new or reset account gets a one-time password that must be changed at the first sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from auditor import store
from auditor.core.config import WebSettings
from auditor.core.errors import AuditInputError
from auditor.followup import accesslog, accounts, privacy
from auditor.followup.accesslog import LogCheck, log_access
from auditor.followup.privacy import User
from auditor.services.session import Session, open_session


@dataclass(frozen=True)
class NewPassword:
    user: User
    one_time_password: str | None  # generated (to be shown once), None when the caller supplied one


def add_user(db_url: str | None, acting: str | None, *, name: str, role: str, street: str | None,
             password: str | None = None, web: WebSettings | None = None) -> NewPassword:
    """Add a user; the first user of a store must be an auditor and acts for themself."""
    engine = store.connect(db_url)
    if privacy.count_users(engine) == 0:
        if role != "auditor":
            raise AuditInputError("第一个用户必须是 auditor (the first user must be an auditor)")
        privacy.check_role(role, street)
        return create_user(Session(engine, User(name, role, street)), name=name, role=role, street=street,
                           password=password, web=web)
    return create_user(open_session(db_url, acting), name=name, role=role, street=street, password=password, web=web)


def create_user(s: Session, *, name: str, role: str, street: str | None, password: str | None = None,
                web: WebSettings | None = None) -> NewPassword:
    """Create an account with ``password`` (checked against the policy) or a generated one-time password."""
    s.require("users", "users.add")
    web = web or WebSettings()
    name = name.strip()
    if not name or len(name) > 64:
        raise AuditInputError("用户名须为 1–64 个字符 (user name: 1-64 characters)")
    if password is not None:
        accounts.check_policy(password, web)
    user = privacy.add_user(s.engine, name, role, street)
    otp = None if password is not None else accounts.one_time_password(web)
    accounts.set_password(s.engine, name, password if password is not None else otp or "", must_change=True)
    log_access(s.engine, s.user, "users.add", target=name, detail={"role": role, "street": street})
    return NewPassword(user, otp)


def reset_user(s: Session, name: str, *, web: WebSettings | None = None) -> NewPassword:
    """A new one-time password for ``name``; unlocks the account and ends its sessions."""
    s.require("users", "users.reset")
    account = accounts.require_account(s.engine, name)
    otp = accounts.reset(s.engine, name, web or WebSettings())
    log_access(s.engine, s.user, "users.reset", target=name)
    return NewPassword(account.user, otp)


def disable_user(s: Session, name: str) -> User:
    """Disable ``name`` and end their sessions; nobody disables themself."""
    s.require("users", "users.disable")
    if name == s.user.name:
        raise AuditInputError("不能停用自己的账户 (you cannot disable yourself)")
    account = accounts.require_account(s.engine, name)
    accounts.disable(s.engine, name)
    log_access(s.engine, s.user, "users.disable", target=name)
    return account.user


def set_user(s: Session, name: str, *, role: str, street: str | None) -> User:
    """Change the role and street of ``name``."""
    s.require("users", "users.set")
    if name == s.user.name and role != s.user.role:
        raise AuditInputError("不能更改自己的角色 (you cannot change your own role)")
    user = accounts.set_role(s.engine, name, role, street)
    log_access(s.engine, s.user, "users.set", target=name, detail={"role": role, "street": street})
    return user


DEMO_USERS = (("demo-auditor", "auditor"), ("demo-inspector", "inspector"), ("demo-office", "office"),
              ("demo-street", "street"))


def demo_accounts(db_url: str | None, *, web: WebSettings | None = None) -> list[NewPassword]:
    """One demo account per role (``DEMO_USERS``; the street officer bound to the street with the most
    findings), each with a fresh one-time password; accounts left from an earlier demo are reset and enabled.
    The operator's console creates them: each change is logged as the demo auditor."""
    engine = store.connect(db_url)
    street = _busiest_street(engine)
    web = web or WebSettings()
    issued = []
    for name, role in DEMO_USERS:
        bound = street if role == "street" else None
        if accounts.get_account(engine, name) is None:
            privacy.add_user(engine, name, role, bound)
        else:
            accounts.set_role(engine, name, role, bound)
            accounts.enable(engine, name)
        otp = accounts.reset(engine, name, web)
        log_access(engine, User(DEMO_USERS[0][0], "auditor"), "users.reset", target=name,
                   detail={"role": role, "street": bound, "demo": True})
        issued.append(NewPassword(User(name, role, bound), otp))
    return issued


def _busiest_street(engine: Engine) -> str:
    f = store.findings
    with engine.connect() as conn:
        street = conn.execute(select(f.c.street).where(f.c.street.is_not(None)).group_by(f.c.street)
                              .order_by(func.count().desc(), f.c.street).limit(1)).scalar()
    if street is None:
        raise AuditInputError("演示库中没有问题线索，无法绑定街镇演示账户 (no findings in the demo store)")
    return str(street)


def list_accounts(s: Session) -> list[accounts.Account]:
    """Every account with its state (for the users page)."""
    s.require("users", "users.list")
    log_access(s.engine, s.user, "users.list")
    return accounts.list_accounts(s.engine)


def list_users(s: Session) -> list[User]:
    s.require("users", "users.list")
    log_access(s.engine, s.user, "users.list")
    return privacy.list_users(s.engine)


def verify_access_log(s: Session, *, reanchor: bool = False) -> LogCheck:
    """Check the log against the key and the anchor; an intact check is itself logged.

    With ``reanchor`` (auditors only) a log whose entries all verify but whose
    anchor is behind or missing is anchored at its head, and that is logged.
    """
    s.require("verify", "access_log.verify")
    if not reanchor:
        check = accesslog.verify_log(s.engine)
        if check.state == "intact":
            log_access(s.engine, s.user, "access_log.verify", detail={"entries": check.entries})
        return check
    s.require("reanchor", "access_log.reanchor")
    check, old = accesslog.reanchor(s.engine)
    if check.state == "intact":
        log_access(s.engine, s.user, "access_log.reanchor", detail={"from_seq": old, "to_seq": check.head_seq})
    return check
