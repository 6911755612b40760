"""The daily follow-up pages: the worklist, a finding's page with its actions, online verification and the
问题清单 round trip. Everything goes through ``auditor.services.findings`` (roles, streets, masking, log)."""

from __future__ import annotations

import base64
import re
import tempfile
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlencode

from starlette.responses import Response

from auditor.core.errors import AuditInputError
from auditor.core.money import fen_to_yuan, to_fen
from auditor.core.periods import beijing_text
from auditor.core.vocab import FINDING_STATUS_LABELS, SEVERITY_LABELS
from auditor.engine.runner import load_catalogue
from auditor.followup import importer, lifecycle, workflow
from auditor.followup.dossier import evidence_parts
from auditor.followup.lifecycle import EVENT_LABELS, status_label
from auditor.services import findings as svc
from auditor.services import search
from auditor.services.session import Refused
from auditor.web.routes.base import BEIJING, Ctx, redirect, render

PAGE_SIZE = 50
SORTS = {"month": "月份（新→旧）", "amount": "金额（大→小）", "due": "完成期限", "rule": "规则", "street": "街镇",
         "status": "状态"}
FILTERS = ("month_from", "month_to", "street", "rule", "severity", "status", "overdue", "recurring", "age", "sort")
AGES = {key: label for key, (label, _, _) in workflow.AGE_BANDS.items()}


def _query(ctx: Ctx) -> tuple[svc.FindingQuery, dict[str, str]]:
    """The worklist's filters from the query string (unknown or empty ones ignored)."""
    p = {k: ctx.request.query_params.get(k, "").strip() for k in FILTERS}
    for key, name in (("month_from", "起始月份"), ("month_to", "截止月份")):
        if p[key] and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", p[key]):
            raise AuditInputError(f"{name} {p[key]!r} 无效，应为 YYYY-MM (month as YYYY-MM)")
    statuses = ([p["status"]] if p["status"] in FINDING_STATUS_LABELS else
                list(lifecycle.CLOSED) if p["status"] == "closed" else [])
    q = svc.FindingQuery(street=p["street"] or None, rules=[r for r in p["rule"].split(",") if r],  # R01,R02: any
                         severities=[p["severity"]] if p["severity"] in SEVERITY_LABELS else [],
                         statuses=statuses, open_only=p["status"] == "open", month_from=p["month_from"] or None,
                         month_to=p["month_to"] or None, recurring=p["recurring"] == "1", overdue=p["overdue"] == "1",
                         age=p["age"] if p["age"] in AGES else None)
    return q, p


def worklist(ctx: Ctx, *, error: str | None = None, status: int = 200) -> Response:
    user = ctx.session.user
    try:
        q, p = _query(ctx)
        page = max(int(ctx.request.query_params.get("page") or 1), 1)
        order = p["sort"] if p["sort"] in SORTS else "month"
        frame, total = svc.page_findings(ctx.session, q, page=page, size=PAGE_SIZE, order=order)
    except Refused:
        raise
    except (AuditInputError, ValueError) as exc:
        q, p, page, order, total = svc.FindingQuery(), {k: "" for k in FILTERS}, 1, "month", 0
        frame, error, status = None, str(exc) if isinstance(exc, AuditInputError) else "页码无效 (bad page)", 400
    today = ctx.now.astimezone(BEIJING).date()
    rows = [] if frame is None or frame.is_empty() else [_row(r, today) for r in frame.iter_rows(named=True)]
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    kept = {k: v for k, v in p.items() if v}
    link = lambda n: "/findings?" + urlencode(kept | {"page": n})  # noqa: E731
    names = {code: cls.name for code, cls in load_catalogue().items()}
    return render(ctx, "findings.html.j2", status=status, rows=rows, total=total, page=page, pages=pages,
                  prev=link(page - 1) if page > 1 else None, next=link(page + 1) if page < pages else None,
                  p=p, sorts=SORTS, order=order, streets=ctx.profile.streets, rules=names,
                  severities=SEVERITY_LABELS, statuses=FINDING_STATUS_LABELS, error=error, ages=AGES,
                  district_street=workflow.DISTRICT,
                  can_assign=user.can("assign"), back=ctx.request.url.path + (
                      "?" + ctx.request.url.query if ctx.request.url.query else ""),
                  assigned=ctx.request.query_params.get("assigned"), today=today.isoformat())


def _row(r: dict, today: date) -> dict:
    due = r["due_date"]
    overdue = bool(due and r["status"] in lifecycle.OPEN and due < today)
    return {**r, "amount": fen_to_yuan(r["amount_fen"]), "status_label": FINDING_STATUS_LABELS[r["status"]],
            "street_shown": r["assigned_street"] or r["street"] or "区级", "overdue": overdue}


def _due(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise AuditInputError(f"完成期限 {text!r} 不是日期，应为 YYYY-MM-DD (due date)") from None


def bulk_assign(ctx: Ctx) -> Response:
    fids = [f for f in ctx.lists.get("fid", []) if f]
    back = ctx.form.get("back", "")
    back = back if back.startswith("/findings") and "//" not in back else "/findings"
    try:
        if not fids:
            raise AuditInputError("请先勾选要交办的问题线索 (select findings to assign)")
        done = svc.assign(ctx.session, fids, person=ctx.form.get("person", "").strip(),
                          street=ctx.form.get("street") or None, due=_due(ctx.form.get("due", "")),
                          note=ctx.form.get("note") or None)
    except Refused:
        raise
    except AuditInputError as exc:
        return render(ctx, "error.html.j2", status=400, title="交办未完成", message=str(exc), back=back)
    sep = "&" if "?" in back else "?"
    return redirect(f"{back}{sep}assigned={len(done)}")


def finding_page(ctx: Ctx, *, error: str | None = None, status: int = 200, fill: dict | None = None) -> Response:
    fid = ctx.param("fid")
    try:
        record = svc.show_finding(ctx.session, fid)
    except Refused:
        raise
    except AuditInputError as exc:  # no such finding
        return render(ctx, "error.html.j2", status=404, title="问题线索不存在", message=str(exc), back="/findings")
    f = record.finding
    rule = load_catalogue().get(f["rule"])
    months = []
    for o in reversed(record.occurrences):
        parts = evidence_parts(o["evidence"], True)  # already masked by the service
        drawing = ("data:image/svg+xml;base64," + base64.b64encode(str(parts["drawing"]).encode()).decode()
                   if parts["drawing"] else None)
        months.append({"month": o["month"], "amount": fen_to_yuan(o["amount_fen"]), "title": o["title"],
                       "view": parts["view"], "paths": parts["paths"], "svg": parts["svg"], "drawing": drawing})
    history = [{"at": beijing_text(e["at"]), "actor": e["actor"], "action": EVENT_LABELS.get(e["action"], e["action"]),
                "from": status_label(e["from_status"]), "to": status_label(e["to_status"]), "note": e["note"] or "",
                "amount": fen_to_yuan(e["amount_fen"])} for e in record.events]
    user = ctx.session.user
    st = f["status"]
    actions = {
        "assign": user.can("assign") and st in ("new", "assigned"),
        "rectifying": user.can("update") and st == "assigned",
        "close": user.can("close") and st in lifecycle.OPEN,
        "confirm": user.can("confirm") and st in ("assigned", "rectifying"),
        "verify": user.can("update") and st in lifecycle.OPEN,
    }
    latest = record.occurrences[-1] if record.occurrences else {}
    return render(ctx, "finding.html.j2", status=status, f=f, title=latest.get("title", ""),
                  amount=fen_to_yuan(latest.get("amount_fen")), recovered=fen_to_yuan(f["amount_recovered_fen"]),
                  status_label=FINDING_STATUS_LABELS[st], rule_name=rule.name if rule else f["rule"],
                  severity=SEVERITY_LABELS.get(f["severity"], f["severity"]), months=months, history=history,
                  actions=actions, error=error, fill=fill or {}, streets=ctx.profile.streets,
                  results=(*importer.TRUE_RESULTS, importer.FALSE_RESULT), today=ctx.now.astimezone(BEIJING).date(),
                  people=search.people_of_finding(ctx.session, fid, f["staff_id"]))


def _act(ctx: Ctx, action: object) -> Response:
    """Run ``action()``; back to the finding page, or the page again with the error (400)."""
    fid = ctx.param("fid")
    try:
        action()  # type: ignore[operator]
    except AuditInputError as exc:
        if isinstance(exc, Refused):
            raise
        return finding_page(ctx, error=str(exc), status=400, fill=ctx.form)
    return redirect(f"/findings/{fid}")


def assign(ctx: Ctx) -> Response:
    return _act(ctx, lambda: svc.assign(ctx.session, [ctx.param("fid")], person=ctx.form.get("person", "").strip(),
                                        street=ctx.form.get("street") or None, due=_due(ctx.form.get("due", "")),
                                        note=ctx.form.get("note") or None))


def rectifying(ctx: Ctx) -> Response:
    return _act(ctx, lambda: svc.update(ctx.session, [ctx.param("fid")], start=True,
                                        note=ctx.form.get("note") or None))


def close(ctx: Ctx) -> Response:
    outcome = ctx.form.get("outcome", "")

    def run() -> None:
        if outcome not in ("rectified", "dismissed"):
            raise AuditInputError(f"结案方式 {outcome!r} 无效，应为 已整改 或 排除 (rectified or dismissed)")
        svc.close(ctx.session, [ctx.param("fid")], outcome=outcome, reason=ctx.form.get("reason", "").strip() or None)
    return _act(ctx, run)


def confirm(ctx: Ctx) -> Response:
    def run() -> None:
        text = ctx.form.get("recovered", "").strip().replace(",", "")
        try:
            fen = to_fen(Decimal(text))
        except (InvalidOperation, ValueError):
            raise AuditInputError(f"追回金额 {text!r} 无效，应为元，最多两位小数 (amount recovered in yuan)") from None
        svc.close(ctx.session, [ctx.param("fid")], outcome="confirmed",
                  reason=ctx.form.get("reason", "").strip() or None, recovered_fen=fen)
    return _act(ctx, run)


def verify(ctx: Ctx) -> Response:
    return _act(ctx, lambda: svc.verify(ctx.session, ctx.param("fid"), ctx.form))


def issues_download(ctx: Ctx) -> Response:
    q = ctx.request.query_params
    month, content = svc.issues_workbook(ctx.session, street=q.get("street") or None, month=q.get("month") or None,
                                         district=ctx.profile.district)
    name = f"issues-{month or 'empty'}.xlsx"
    return Response(content, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def issues_form(ctx: Ctx, *, result: dict | None = None, errors: list[str] | None = None,
                status: int = 200) -> Response:
    return render(ctx, "issues.html.j2", status=status, result=result, errors=errors or [],
                  labels=FINDING_STATUS_LABELS | {"unchanged": "无变化"}, streets=ctx.profile.streets)


def issues_upload(ctx: Ctx) -> Response:
    name, content = ctx.files.get("file", ("", b""))
    if not content:
        return issues_form(ctx, errors=["请选择要上传的问题清单文件 (choose a file)"], status=400)
    safe = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", Path(name).name)[:80] or "issues.xlsx"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / safe
        path.write_bytes(content)
        try:
            counts = svc.import_returned(ctx.session, path)
        except AuditInputError as exc:
            if isinstance(exc, Refused):
                raise
            lines = [line.strip().removeprefix("- ") for line in str(exc).replace(f"{tmp}/", "").splitlines()]
            return issues_form(ctx, errors=[line for line in lines if line], status=400)
    return issues_form(ctx, result=counts)
