"""Who is acting: a store and a signed-in user, the argument of every service that touches the store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from auditor import store
from auditor.followup.privacy import User, current_user


@dataclass(frozen=True)
class Session:
    engine: Engine
    user: User


def open_session(db_url: str | None, user_name: str | None) -> Session:
    """The store at ``db_url`` and the acting user ``user_name`` (else ``AUDITOR_USER``), who must exist."""
    engine = store.connect(db_url)
    return Session(engine, current_user(engine, user_name))
