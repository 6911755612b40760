"""Who is acting: a store and a signed-in user, the argument of every service that touches the store.

A refused attempt is written to the access log as ``denied:<action>`` before the refusal is raised.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.followup.accesslog import log_access
from auditor.followup.privacy import User, current_user


class Refused(AuditInputError):
    """The acting user's role or street does not allow the action (a front end answers 403)."""


@dataclass(frozen=True)
class Session:
    engine: Engine
    user: User

    def refuse(self, action: str, exc: AuditInputError, target: str | None = None) -> AuditInputError:
        """Log the refusal of ``action`` and return ``exc`` for the caller to raise."""
        log_access(self.engine, self.user, f"denied:{action}"[:32], target=target, detail={"why": str(exc)})
        return exc

    def require(self, permission: str, action: str, target: str | None = None) -> None:
        try:
            self.user.require(permission)
        except AuditInputError as exc:
            raise self.refuse(action, Refused(str(exc)), target) from None

    def require_street(self, street: str | None, action: str, target: str | None = None) -> None:
        try:
            self.user.require_street(street)
        except AuditInputError as exc:
            raise self.refuse(action, Refused(str(exc)), target) from None

    def unmasked(self, requested: bool, action: str, target: str | None = None) -> bool:
        if requested:
            self.require("unmask", f"{action}.unmasked", target)
        return requested


def open_session(db_url: str | None, user_name: str | None) -> Session:
    """The store at ``db_url`` and the acting user ``user_name`` (else ``AUDITOR_USER``), who must exist."""
    engine = store.connect(db_url)
    return Session(engine, current_user(engine, user_name))


def operator_session(db_url: str | None, user_name: str | None) -> Session:
    """For ``run``, ``demo`` and ``schedule``: ``user_name``, else ``AUDITOR_USER``, else the
    operating-system user. A user of the store acts with their role; any other name is recorded
    as an ``operator`` (who may only start runs)."""
    engine = store.connect(db_url)
    name = user_name or os.environ.get("AUDITOR_USER") or getpass.getuser()
    with engine.connect() as conn:
        row = conn.execute(select(store.users).where(store.users.c.name == name)).mappings().first()
    user = User(row["name"], row["role"], row["street"]) if row else User(name, "operator")
    return Session(engine, user)
