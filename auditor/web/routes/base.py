"""What every page gets (``Ctx``), how a page is declared (``Page``) and rendered (``render``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from auditor.core.config import Profile
from auditor.core.vocab import USER_ROLE_LABELS
from auditor.followup.privacy import User
from auditor.reporting.env import environment
from auditor.services.session import Session
from auditor.web.auth import WebSession

BEIJING = timezone(timedelta(hours=8), "北京时间")


def beijing(at: datetime | None) -> str:
    """``2026-11-29 20:15`` in Beijing time (empty for None)."""
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if at else ""


@dataclass
class Ctx:
    """One request as a page sees it: the store, the profile, the clock's now, the form and who is signed in."""

    request: Request
    engine: Engine
    profile: Profile
    now: datetime
    form: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)  # every value of a repeated form field
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # field -> (file name, content)
    uploads: list[tuple[str, bytes]] = field(default_factory=list)  # every file of a ``drop`` page's form
    web_session: WebSession | None = None
    cookies: list[tuple[str, str | None]] = field(default_factory=list)  # (name, value); None deletes

    @property
    def user(self) -> User | None:
        return self.web_session.account.user if self.web_session else None

    @property
    def session(self) -> Session:
        """The service session of the signed-in user."""
        assert self.user is not None
        return Session(self.engine, self.user)

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])


Access = Literal["public", "signed_in"] | str  # or a permission of ``privacy.PERMISSIONS``


@dataclass(frozen=True)
class Page:
    """One route: who may use it (``public``, any ``signed_in`` user, or users with a permission)."""

    name: str
    method: Literal["GET", "POST"]
    path: str
    handler: Callable[[Ctx], Response]
    access: Access
    while_must_change: bool = False  # usable before the one-time password is changed
    upload: bool = False  # a multipart form with one file of at most ``UPLOAD_LIMIT`` bytes
    drop: bool = False  # a multipart form with a month's drop: files up to the profile's ``web.drop_upload_mb``


UPLOAD_LIMIT = 5 * 1024 * 1024
DROP_FILES = 40  # files of one drop upload (the contract has 20 tables)


def upload_limit(page: Page, profile: Profile) -> int:
    """The most bytes ``page`` takes in one request's files."""
    return profile.web.drop_upload_mb * 1024 * 1024 if page.drop else UPLOAD_LIMIT


def render(ctx: Ctx, template: str, *, status: int = 200, **values: object) -> HTMLResponse:
    """Render ``reports/web/<template>`` with the layout's values (user, CSRF token, Beijing time)."""
    user = ctx.user
    html = environment().get_template(f"web/{template}").render(
        user=user, role_label=USER_ROLE_LABELS.get(user.role, "") if user else "",
        csrf=ctx.web_session.csrf if ctx.web_session else "", now=beijing(ctx.now),
        district=ctx.profile.district, path=ctx.request.url.path,
        must_change=bool(ctx.web_session and ctx.web_session.account.must_change), **values)
    return HTMLResponse(html, status_code=status)


def redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303)
