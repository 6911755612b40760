"""Signing in and out, changing the password, and each role's home page."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from starlette.responses import Response

from auditor.core.money import fen_to_yuan
from auditor.core.vocab import FINDING_STATUS_LABELS, USER_ROLE_LABELS
from auditor.followup import accounts, lifecycle
from auditor.followup.accesslog import log_access
from auditor.followup.accounts import Outcome
from auditor.followup.privacy import User
from auditor.services.findings import FindingQuery, list_findings
from auditor.web import auth
from auditor.web.routes.base import BEIJING, Ctx, beijing, redirect, render

# who a sign-in attempt is logged as before it succeeds (the typed name is the target)
ANONYMOUS = User("anonymous", "anonymous")
# what each role can do here and in the coming pages (roles.md), shown on its home page
CAN = {
    "auditor": ["查看全部街镇的问题线索，必要时申请查看完整证件号（记入访问日志）",
                "交办、改派问题线索，审核整改与认定违规（追回金额）",
                "导入街镇退回的问题清单，上传数据、启动月度审计",
                "管理用户：开通账户、重置密码、停用、调整角色和街镇",
                "查阅并核验访问日志；在数据看板生成失信名单"],
    "inspector": ["查询全部街镇的问题线索与人员关系，必要时查看完整证件号（记入访问日志）",
                  "查阅数据看板、月度报告与联席会议办公室报告",
                  "查阅并核验访问日志"],
    "office": ["查看全部街镇的问题线索（个人信息脱敏）",
               "交办、改派问题线索，跟踪整改进度与超期情况",
               "查阅数据看板（全区与各街镇、街镇评分）、月度报告、办公室报告",
               "在数据看板生成并下载失信名单（记入访问日志）"],
    "street": ["查看本街镇的问题线索（个人信息脱敏）",
               "登记核查结果：整改中、已整改、排除（须说明理由）",
               "导入本街镇填报的问题清单",
               "查阅本街镇的数据看板：整改进度、账龄、评分"],
}


def login_form(ctx: Ctx, *, error: str | None = None, status: int = 200) -> Response:
    token = auth.new_token()
    ctx.cookies.append((auth.LOGIN_CSRF_COOKIE, token))
    return render(ctx, "login.html.j2", status=status, login_csrf=token, error=error, policy=ctx.profile.web,
                  name=ctx.form.get("name", "")[:64])


def login(ctx: Ctx) -> Response:
    name, password = ctx.form.get("name", "").strip()[:64], ctx.form.get("password", "")
    if not auth.same(ctx.form.get("csrf"), ctx.request.cookies.get(auth.LOGIN_CSRF_COOKIE)):
        return login_form(ctx, error="页面已过期，请重新登录 (form expired)", status=403)
    web = ctx.profile.web
    outcome, account = accounts.sign_in(ctx.engine, name, password, web, ctx.now)
    if outcome is Outcome.OK and account is not None:
        token = auth.create(ctx.engine, name, web, ctx.now)
        ctx.cookies += [(auth.SESSION_COOKIE, token), (auth.LOGIN_CSRF_COOKIE, None)]
        log_access(ctx.engine, account.user, "web.signin", target=name,
                   detail={"must_change": account.must_change})
        return redirect("/password" if account.must_change else "/")
    log_access(ctx.engine, ANONYMOUS, "web.signin_failed", target=name, detail={"reason": outcome.value})
    if outcome is Outcome.LOCKED_NOW:
        log_access(ctx.engine, ANONYMOUS, "web.locked", target=name,
                   detail={"minutes": web.lockout_minutes})
    if outcome in (Outcome.LOCKED, Outcome.LOCKED_NOW):
        error = f"连续登录失败次数过多，账户已锁定 {web.lockout_minutes} 分钟 (account locked)"
    elif outcome is Outcome.DISABLED:
        error = "账户已停用，请联系审计人员 (account disabled)"
    else:
        error = "用户名或密码不正确 (wrong name or password)"
    return login_form(ctx, error=error, status=401)


def logout(ctx: Ctx) -> Response:
    assert ctx.web_session is not None and ctx.user is not None
    auth.revoke(ctx.engine, ctx.web_session.id_hash)
    log_access(ctx.engine, ctx.user, "web.signout")
    ctx.cookies.append((auth.SESSION_COOKIE, None))
    return redirect("/login")


def password_form(ctx: Ctx, *, error: str | None = None, status: int = 200) -> Response:
    return render(ctx, "password.html.j2", status=status, error=error, policy=ctx.profile.web)


def change_password(ctx: Ctx) -> Response:
    assert ctx.web_session is not None and ctx.user is not None
    current, new, again = (ctx.form.get(k, "") for k in ("current", "new", "again"))
    web, name = ctx.profile.web, ctx.user.name
    outcome, _ = accounts.sign_in(ctx.engine, name, current, web, ctx.now)
    if outcome is not Outcome.OK:
        log_access(ctx.engine, ctx.user, "web.password_failed", detail={"reason": outcome.value})
        if outcome is Outcome.LOCKED_NOW:
            log_access(ctx.engine, ANONYMOUS, "web.locked", target=name, detail={"minutes": web.lockout_minutes})
        if outcome in (Outcome.LOCKED, Outcome.LOCKED_NOW):
            auth.revoke(ctx.engine, ctx.web_session.id_hash)
            ctx.cookies.append((auth.SESSION_COOKIE, None))
            return redirect("/login")
        return password_form(ctx, error="当前密码不正确 (current password is wrong)", status=400)
    problem = accounts.policy_problem(new, web)
    if problem is None and new != again:
        problem = "两次输入的新密码不一致 (the new passwords differ)"
    if problem is None and new == current:
        problem = "新密码不能与当前密码相同 (choose a new password)"
    if problem:
        return password_form(ctx, error=problem, status=400)
    accounts.set_password(ctx.engine, name, new, must_change=False)
    auth.revoke_others(ctx.engine, name, keep=ctx.web_session.id_hash)
    log_access(ctx.engine, ctx.user, "web.password_changed")
    return redirect("/")


def home(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None
    frame = list_findings(ctx.session, FindingQuery())
    return render(ctx, "home.html.j2", can=CAN[user.role], counts=_counts(frame, ctx.now),
                  by_street=_by_street(frame) if user.role != "street" else [],
                  signed_in_at=beijing(ctx.web_session.created_at if ctx.web_session else None),
                  role_labels=USER_ROLE_LABELS)


def _counts(frame: pl.DataFrame, now: datetime) -> dict[str, object]:
    """Findings the user may see: in all, open, overdue, by status, and the money of the open ones."""
    if frame.is_empty():
        return {"total": 0, "open": 0, "overdue": 0, "amount": "0.00",
                "by_status": [(label, 0) for label in FINDING_STATUS_LABELS.values()]}
    today = now.astimezone(BEIJING).date()
    is_open = pl.col("status").is_in(lifecycle.OPEN)
    row = frame.select(
        open=is_open.sum(), overdue=(is_open & (pl.col("due_date").cast(pl.Date) < today)).sum(),
        amount=pl.when(is_open).then(pl.col("amount_fen")).otherwise(0).sum()).row(0, named=True)
    status_counts = dict(frame.group_by("status").len().iter_rows())
    return {"total": frame.height, "open": row["open"], "overdue": row["overdue"] or 0,
            "amount": fen_to_yuan(int(row["amount"] or 0)),
            "by_status": [(label, status_counts.get(s, 0)) for s, label in FINDING_STATUS_LABELS.items()]}


def _by_street(frame: pl.DataFrame) -> list[dict[str, object]]:
    """Open and all findings per street (the assigned street when a finding was handed on), most open first."""
    if frame.is_empty():
        return []
    street = pl.coalesce("assigned_street", "street").fill_null("区级")
    return (frame.group_by(street.alias("street"))
            .agg(total=pl.len(), open=pl.col("status").is_in(lifecycle.OPEN).sum())
            .sort(["open", "street"], descending=[True, False]).to_dicts())
