"""The users page (auditors): create accounts, reset passwords, disable, change role and street."""

from __future__ import annotations

from starlette.responses import Response

from auditor.core.errors import AuditInputError
from auditor.core.vocab import USER_ROLE_LABELS
from auditor.followup.accounts import Account
from auditor.services import admin
from auditor.services.admin import NewPassword
from auditor.web.routes.base import Ctx, beijing, render


def users_page(ctx: Ctx, *, issued: NewPassword | None = None, done: str | None = None, error: str | None = None,
               status: int = 200) -> Response:
    rows = [{"name": a.name, "role": a.role, "role_label": USER_ROLE_LABELS[a.role], "street": a.street or "",
             "state": _state(a, ctx), "created": beijing(a.created_at), "is_me": a.name == ctx.session.user.name}
            for a in admin.list_accounts(ctx.session)]
    return render(ctx, "users.html.j2", status=status, rows=rows, streets=ctx.profile.streets,
                  roles=USER_ROLE_LABELS, issued=issued, done=done, error=error)


def _state(a: Account, ctx: Ctx) -> str:
    if a.disabled:
        return "已停用"
    if a.locked(ctx.now):
        return f"锁定至 {beijing(a.locked_until)[-5:]}"
    if a.password_hash is None:
        return "未设密码"
    return "待改初始密码" if a.must_change else "正常"


def _street(ctx: Ctx) -> str | None:
    if ctx.form.get("role") != "street":
        return None
    return (ctx.form.get("street") or "").strip() or None


def create(ctx: Ctx) -> Response:
    try:
        issued = admin.create_user(ctx.session, name=ctx.form.get("name", ""), role=ctx.form.get("role", ""),
                                   street=_street(ctx), web=ctx.profile.web)
    except AuditInputError as exc:
        return users_page(ctx, error=str(exc), status=400)
    return users_page(ctx, issued=issued)


def reset(ctx: Ctx) -> Response:
    try:
        issued = admin.reset_user(ctx.session, ctx.param("name"), web=ctx.profile.web)
    except AuditInputError as exc:
        return users_page(ctx, error=str(exc), status=400)
    return users_page(ctx, issued=issued)


def disable(ctx: Ctx) -> Response:
    try:
        user = admin.disable_user(ctx.session, ctx.param("name"))
    except AuditInputError as exc:
        return users_page(ctx, error=str(exc), status=400)
    return users_page(ctx, done=f"已停用 {user.name}，其会话已结束")


def set_role(ctx: Ctx) -> Response:
    try:
        user = admin.set_user(ctx.session, ctx.param("name"), role=ctx.form.get("role", ""), street=_street(ctx))
    except AuditInputError as exc:
        return users_page(ctx, error=str(exc), status=400)
    return users_page(ctx, done=f"已将 {user.name} 设为 {USER_ROLE_LABELS[user.role]} {user.street or ''}".strip())
