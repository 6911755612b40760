"""Roles, masking of personal data and the hash-chained access log (信息安全保护).

Roles and what they may do:

- ``auditor`` 审计人员: every street; unmasked only on request (``--unmasked``);
  may do everything (assign, update, close incl. ``confirmed``, import, add users).
- ``inspector`` 纪检监察: every street; unmasked only on request; read-only
  queries, dossiers, reports, verifying the access log.
- ``office`` 联席会议办公室: every street, always masked; read, assign, office report.
- ``street`` 街镇经办: only the street bound to the user, always masked; read,
  update, close as rectified/dismissed, import its returned 问题清单.

``search`` (people across findings and snapshots) and ``access_log`` (read the access log, verify its
chain) are the auditor's and the inspector's. ``publish`` (office, auditor) produces the unmasked
dishonesty list; ``screen`` (auditor) the unmasked hold list; ``run`` (auditor, or the
operating-system ``operator`` account that is not a user of the store) starts monthly and quarterly runs.

Resident ids, phones and bank accounts are masked by default for every role
(``310105********1234``: first 6 and last 4 kept; phones ``138****1234``).
Every query and every unmasked view is appended to ``access_log``, keyed and
anchored outside the store (:mod:`auditor.followup.accesslog`). There is no
update or delete API.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.core.vocab import USER_ROLE_LABELS, USER_ROLES

PERMISSIONS = {
    "auditor": {"read", "unmask", "assign", "update", "close", "confirm", "import", "report", "users", "verify",
                "publish", "run", "screen", "reanchor", "search", "access_log"},
    "inspector": {"read", "unmask", "report", "verify", "search", "access_log"},
    "office": {"read", "assign", "report", "publish"},
    "street": {"read", "update", "close", "import"},
    # the operating-system account behind ``run``/``demo``/``schedule`` when it is not a user of the store
    "operator": {"run"},
}

@dataclass(frozen=True)
class User:
    name: str
    role: str
    street: str | None = None

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, set())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise AuditInputError(f"用户 {self.name}（{USER_ROLE_LABELS.get(self.role, self.role)}）无权执行此操作 "
                                  f"(role {self.role} may not {permission})")

    def require_street(self, street: str | None) -> None:
        """A street officer may only touch findings of their own street."""
        if self.role == "street" and street != self.street:
            raise AuditInputError(f"用户 {self.name} 只能查看/处理 {self.street} 的问题 (not your street)")

    def unmasked(self, requested: bool) -> bool:
        if requested:
            self.require("unmask")
        return requested


def check_role(role: str, street: str | None) -> None:
    """A known role; a street officer, and only a street officer, is bound to one street."""
    if role not in USER_ROLES:
        raise AuditInputError(f"角色 {role!r} 无效 (role must be one of {', '.join(USER_ROLES)})")
    if (role == "street") != bool(street):
        raise AuditInputError("街镇经办必须且只有街镇经办绑定一个街镇 (--street is for, and required by, role street)")


def add_user(engine: Engine, name: str, role: str, street: str | None = None) -> User:
    check_role(role, street)
    try:
        with engine.begin() as conn:
            conn.execute(insert(store.users).values(name=name, role=role, street=street, created_at=store.now()))
    except IntegrityError:
        raise AuditInputError(f"用户 {name} 已存在 (user exists)") from None
    return User(name, role, street)


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        rows = conn.execute(select(store.users).order_by(store.users.c.name)).mappings().all()
    return [User(r["name"], r["role"], r["street"]) for r in rows]


def count_users(engine: Engine) -> int:
    return store.count_rows(engine, store.users)


def current_user(engine: Engine, name: str | None) -> User:
    """The acting user from ``--user`` or ``AUDITOR_USER``; must exist in ``users``."""
    name = name or os.environ.get("AUDITOR_USER")
    if not name:
        raise AuditInputError("请用 --user 或环境变量 AUDITOR_USER 指明操作人 (acting user required)")
    with engine.connect() as conn:
        row = conn.execute(select(store.users).where(store.users.c.name == name)).mappings().first()
    if row is None:
        raise AuditInputError(f"用户 {name} 不存在，先用 users add 添加 (unknown user)")
    if row["disabled"]:
        raise AuditInputError(f"用户 {name} 已停用 (user disabled)")
    return User(row["name"], row["role"], row["street"])
