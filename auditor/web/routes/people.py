"""The inspector's pages: search, a person's and a staff member's page (unmasked with a reason), and the
access-log viewer with chain verification. Everything goes through ``auditor.services.search`` and
``auditor.services.accesslog`` (roles, streets, masking, the log)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from starlette.responses import Response

from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_value
from auditor.core.money import fen_to_yuan
from auditor.core.periods import beijing_text
from auditor.core.vocab import FINDING_STATUS_LABELS, USER_ROLE_LABELS
from auditor.followup.lifecycle import EVENT_LABELS, status_label
from auditor.jobs.snapshot import snapshot_root
from auditor.services import accesslog as logsvc
from auditor.services import search as svc
from auditor.web.routes.base import Ctx, render

LOG_FILTERS = ("user", "person", "finding", "date_from", "date_to")


def _root(ctx: Ctx) -> Path:
    return snapshot_root(ctx.profile, ctx.engine.url.render_as_string(hide_password=False))


def search_page(ctx: Ctx) -> Response:
    return render(ctx, "search.html.j2", q="", result=None, statuses=FINDING_STATUS_LABELS)


def search_run(ctx: Ctx) -> Response:
    """The query is posted, so resident ids and phones stay out of URLs and browser history."""
    q = ctx.form.get("q", "").strip()[:100]
    result = svc.search(ctx.session, _root(ctx), q) if q else None
    return render(ctx, "search.html.j2", q=q, result=result, statuses=FINDING_STATUS_LABELS)


def _profile(ctx: Ctx, kind: str, *, unmasked: bool = False, reason: str | None = None,
             error: str | None = None, status: int = 200) -> Response:
    token = ctx.param("token")
    root = _root(ctx)
    view_of = svc.person_view if kind == "person" else svc.staff_view
    try:
        view = view_of(ctx.session, root, token, unmasked=unmasked, reason=reason)
    except svc.NotFound as exc:
        return render(ctx, "error.html.j2", status=404, title="未找到", message=str(exc), back="/search")
    months = sorted(svc.indexed_snapshots(root))
    ident = svc.id_of(token)
    findings = [f | {"status_label": FINDING_STATUS_LABELS.get(f["status"], f["status"]),
                     "events": [{"at": beijing_text(e["at"]), "actor": e["actor"],
                                 "action": EVENT_LABELS.get(e["action"], e["action"]),
                                 "to": status_label(e["to_status"]), "note": e["note"] or ""} for e in f["events"]]}
                for f in view.findings]
    timeline = [r | {"amount": fen_to_yuan(r["amount_fen"]) if r["amount_fen"] is not None else ""}
                for r in view.timeline]
    return render(
        ctx, "person.html.j2", status=status, view=view, token=token, findings=findings, timeline=timeline,
        viewers=logsvc.viewers(ctx.session, ident), error=error, can_unmask=ctx.session.user.can("unmask"),
        can_read_log=ctx.session.user.can("access_log"), log_link="/access-log?" + urlencode({"person": token}),
        graph_person_token=token if kind == "person" else None,
        graph_staff_token=token if kind == "staff" else None, graph_month=months[-1] if months else None,
        unmask_reason=view.reason, role_labels=USER_ROLE_LABELS)


def person_page(ctx: Ctx) -> Response:
    return _profile(ctx, "person")


def staff_page(ctx: Ctx) -> Response:
    return _profile(ctx, "staff")


def _unmask(ctx: Ctx, kind: str) -> Response:
    """The page unmasked for the reason given; without a reason, the masked page with the error (400)."""
    try:
        return _profile(ctx, kind, unmasked=True, reason=ctx.form.get("reason", "").strip()[:200])
    except AuditInputError as exc:
        if isinstance(exc, svc.Refused):
            raise
        return _profile(ctx, kind, error=str(exc), status=400)


def person_unmask(ctx: Ctx) -> Response:
    return _unmask(ctx, "person")


def staff_unmask(ctx: Ctx) -> Response:
    return _unmask(ctx, "staff")


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AuditInputError(f"{name} {text!r} 不是日期，应为 YYYY-MM-DD (date)") from None


def _log_filter(p: dict[str, str]) -> logsvc.LogFilter:
    person = p["person"]
    if person:
        try:
            person = svc.id_of(person)  # a person page's link passes its token
        except svc.NotFound:
            pass  # a resident id or staff id typed in
    return logsvc.LogFilter(user=p["user"] or None, person=person or None, finding=p["finding"] or None,
                            date_from=_day(p["date_from"], "起始日期"), date_to=_day(p["date_to"], "截止日期"))


def access_log_page(ctx: Ctx, *, unmasked: bool = False, reason: str | None = None, verified: str | None = None,
                    verified_ok: bool = True, source: dict[str, str] | None = None) -> Response:
    src = source if source is not None else ctx.request.query_params
    p = {k: str(src.get(k, "") or "").strip()[:100] for k in LOG_FILTERS}
    error, person_shown = None, None
    try:
        person_shown = mask_value(svc.id_of(p["person"])) if p["person"] else None
    except svc.NotFound:
        pass  # typed in, not a page's link
    try:
        page = max(int(str(src.get("page") or 1)), 1)
        # A reading pages through the entries as they stood at its first page (reading adds entries).
        upto = int(str(src.get("upto") or 0)) or logsvc.latest_seq(ctx.session)
        entries, total = logsvc.page_log(ctx.session, replace(_log_filter(p), upto=upto), page=page,
                                         unmasked=unmasked, reason=reason)
    except ValueError:
        raise AuditInputError("页码无效 (bad page)") from None
    except AuditInputError as exc:
        if isinstance(exc, svc.Refused):
            raise
        entries, total, page, upto, error = [], 0, 1, 0, str(exc)
    size = logsvc.PAGE_SIZE
    pages = max((total + size - 1) // size, 1)
    kept = {k: v for k, v in p.items() if v}
    link = lambda n: "/access-log?" + urlencode(kept | {"page": n, "upto": upto})  # noqa: E731
    return render(ctx, "access_log.html.j2", status=400 if error else 200, entries=entries, total=total, page=page,
                  pages=pages, prev=link(page - 1) if page > 1 else None,
                  next=link(page + 1) if page < pages else None, p=p, error=error, unmasked=unmasked,
                  reason=reason, person_shown=person_shown, verified=verified, verified_ok=verified_ok, upto=upto,
                  role_labels=USER_ROLE_LABELS)


def access_log_unmask(ctx: Ctx) -> Response:
    return access_log_page(ctx, unmasked=True, reason=ctx.form.get("reason", "").strip()[:200], source=ctx.form)


def access_log_verify(ctx: Ctx) -> Response:
    check = logsvc.verify(ctx.session)
    return access_log_page(ctx, verified=check.message(), verified_ok=check.state == "intact", source=ctx.form)
