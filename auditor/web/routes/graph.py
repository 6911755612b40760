"""The relationship graph: a full-width page (``/graph``) and the JSON it draws (``/graph/data``), both
through ``auditor.services.graph`` (roles, streets, masking, the access log)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from auditor.core.errors import AuditInputError
from auditor.services import graph as svc
from auditor.services.search import id_of
from auditor.services.session import Refused
from auditor.web.routes.base import Ctx, render


def graph_page(ctx: Ctx) -> Response:
    q = ctx.request.query_params
    months = svc.snapshot_months(ctx.session)
    person, staff = q.get("person", "").strip(), q.get("staff", "").strip()
    month = q.get("month", "").strip() or (months[0] if months else "")
    reason = q.get("reason", "").strip() or None
    return render(ctx, "graph.html.j2", months=months, graph_person=person or None, graph_staff=staff or None,
                  graph_month=month, unmask_reason=reason, kind_labels=svc.KIND_LABELS)


def graph_data(ctx: Ctx) -> Response:
    q = ctx.request.query_params
    try:
        # the person and staff pages address their focus by its URL token (no id in a URL)
        person = id_of(q["person_token"]) if q.get("person_token") else q.get("person") or None
        staff = id_of(q["staff_token"]) if q.get("staff_token") else q.get("staff") or None
        data = svc.neighbourhood(
            ctx.session, profile=ctx.profile, month=q.get("month", "").strip(),
            person_id=person, staff_id=staff, expand=q.getlist("expand"),
            kinds=q.get("kinds", "").split(",") if "kinds" in q else None,
            unmask_reason=q["reason"] if "reason" in q else None)
    except Refused as exc:
        return JSONResponse({"error": str(exc)}, status_code=403)
    except AuditInputError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(data)
