"""The relationship graph: a full-width page (``/graph``) and the JSON it draws (``/graph/data``), both
through ``auditor.services.graph`` (roles, streets, masking, the access log)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from auditor.core.errors import AuditInputError
from auditor.services import graph as svc
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
        data = svc.neighbourhood(
            ctx.session, profile=ctx.profile, month=q.get("month", "").strip(),
            person_id=q.get("person") or None, staff_id=q.get("staff") or None, expand=q.getlist("expand"),
            kinds=q.get("kinds", "").split(",") if "kinds" in q else None,
            unmask_reason=q["reason"] if "reason" in q else None)
    except Refused as exc:
        return JSONResponse({"error": str(exc)}, status_code=403)
    except AuditInputError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(data)
