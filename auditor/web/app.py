"""The Starlette application: ``create_app(db_url, profile)``.

Every request to a page of ``routes.ROUTES`` goes through ``dispatch``: the session from the
cookie (expired or revoked ones count as none), then the page's rule — anonymous visitors are
sent to ``/login``, a one-time password must be changed first, a POST must carry the session's
CSRF token, a missing permission is a 403 — and every page a signed-in user opens is logged
(``web.view``). Static files (CSS) are served by the app itself: nothing comes from a network.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auditor import store
from auditor.core.config import Profile, load_profile
from auditor.core.errors import AuditInputError
from auditor.followup.accesslog import log_access
from auditor.reporting.env import TEMPLATE_DIR
from auditor.services.session import Refused
from auditor.web import auth
from auditor.web.routes import ROUTES, Ctx, Page
from auditor.web.routes.base import DROP_FILES, redirect, render, upload_limit

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class SecurityHeaders:
    """Adds ``HEADERS`` to every response, and ``Cache-Control: no-store`` to everything but static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(db_url: str | None = None, profile: Profile | None = None, *,
               clock: Callable[[], datetime] = store.now) -> Starlette:
    """The web application over the store at ``db_url``, with the profile's ``[web]`` settings; ``clock``
    gives now (aware UTC), injectable for tests."""
    routes: list[Route | Mount] = [Route(p.path, _endpoint(p), methods=[p.method], name=p.name) for p in ROUTES]
    routes.append(Mount("/static", app=StaticFiles(directory=TEMPLATE_DIR / "static"), name="static"))
    app = Starlette(routes=routes)
    app.state.engine = store.connect(db_url)
    app.state.profile = profile or load_profile(None)
    app.state.clock = clock
    app.add_middleware(SecurityHeaders)
    return app


def _endpoint(page: Page) -> Callable[[Request], object]:
    async def endpoint(request: Request) -> Response:
        form: dict[str, str] = {}
        lists: dict[str, list[str]] = {}
        files: dict[str, tuple[str, bytes]] = {}
        uploads: list[tuple[str, bytes]] = []
        if request.method == "POST":
            limit = upload_limit(page, request.app.state.profile)
            if (page.upload or page.drop) and int(request.headers.get("content-length") or 0) > limit + 64 * 1024:
                return await run_in_threadpool(dispatch, page, request, {}, too_big=True)
            max_files = DROP_FILES if page.drop else 1 if page.upload else 0
            async with request.form(max_files=max_files, max_fields=300) as data:
                form = {k: v for k, v in data.items() if isinstance(v, str)}
                lists = {k: [v for v in data.getlist(k) if isinstance(v, str)] for k in data}
                left = limit + 1
                for k, v in data.multi_items():
                    if isinstance(v, UploadFile):
                        content = await v.read(left)
                        left = max(left - len(content), 0)
                        uploads.append((v.filename or "", content))
                        files[k] = (v.filename or "", content)
        return await run_in_threadpool(dispatch, page, request, form, lists=lists, files=files, uploads=uploads)
    return endpoint


def dispatch(page: Page, request: Request, form: dict[str, str], *, lists: dict[str, list[str]] | None = None,
             files: dict[str, tuple[str, bytes]] | None = None, uploads: list[tuple[str, bytes]] | None = None,
             too_big: bool = False) -> Response:
    """Check who may do what on ``page``, then run it; set or clear the cookies it asked for."""
    state = request.app.state
    now = state.clock()
    ctx = Ctx(request, state.engine, state.profile, now, form, lists or {}, files or {}, uploads or [])
    token = request.cookies.get(auth.SESSION_COOKIE)
    ctx.web_session = auth.current(ctx.engine, token, ctx.profile.web, now)
    if token and ctx.web_session is None:
        ctx.cookies.append((auth.SESSION_COOKIE, None))
    try:
        limit = upload_limit(page, ctx.profile)
        if too_big or sum(len(content) for _, content in ctx.uploads) > limit:
            response = _refusal(page, ctx, check_csrf=not too_big) or render(
                ctx, "error.html.j2", status=413, title="文件过大",
                message=f"上传的文件超过 {limit // (1024 * 1024)} MB (file too large)")
        else:
            response = _refusal(page, ctx) or page.handler(ctx)
    except Refused as exc:
        response = render(ctx, "error.html.j2", status=403, title="无权访问", message=str(exc))
    except AuditInputError as exc:
        response = render(ctx, "error.html.j2", status=400, title="无法完成操作", message=str(exc))
    https = request.url.scheme == "https"
    for name, value in ctx.cookies:
        if value is None:
            response.delete_cookie(name, path="/", secure=https, httponly=True, samesite="strict")
        else:
            response.set_cookie(name, value, path="/", secure=https, httponly=True, samesite="strict")
    return response


def _refusal(page: Page, ctx: Ctx, *, check_csrf: bool = True) -> Response | None:
    """The answer when ``page`` may not run for this request (None: it may), logging refusals and views."""
    if page.access == "public":
        return None
    user = ctx.user
    if ctx.web_session is None or user is None:
        return redirect("/login")
    if ctx.web_session.account.must_change and not page.while_must_change:
        return redirect("/password")
    path = ctx.request.url.path
    if page.method == "POST" and check_csrf and not auth.same(ctx.form.get("csrf"), ctx.web_session.csrf):
        log_access(ctx.engine, user, "web.csrf_rejected", target=path)
        return render(ctx, "error.html.j2", status=403, title="请求已失效",
                      message="表单已过期或来源不明，请返回页面重新提交 (CSRF token missing or wrong)")
    if page.access != "signed_in" and not user.can(page.access):
        log_access(ctx.engine, user, "web.denied", target=path)
        return render(ctx, "error.html.j2", status=403, title="无权访问",
                      message="您的角色无权访问此页面 (your role may not open this page)")
    if page.method == "GET":
        log_access(ctx.engine, user, "web.view", target=path)
    return None
