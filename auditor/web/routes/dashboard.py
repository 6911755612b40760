"""The office dashboard (``auditor.services.dashboard``) with its SVG charts, and the dishonesty list produced
from it by the roles that publish (``auditor.services.publications``)."""

from __future__ import annotations

import re

from markupsafe import Markup
from starlette.responses import Response

from auditor.core.errors import AuditInputError
from auditor.core.money import fen_to_yuan
from auditor.reporting.charts import bars, columns
from auditor.services import dashboard as svc
from auditor.services.publications import publish_dishonesty
from auditor.web.routes.base import Ctx, render

MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8"}


def dashboard_page(ctx: Ctx) -> Response:
    q = ctx.request.query_params
    month = (q.get("month") or "").strip() or None
    if month and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise AuditInputError(f"月份 {month!r} 无效，应为 YYYY-MM (month as YYYY-MM)")
    d = svc.dashboard(ctx.session, month, street=(q.get("street") or "").strip() or None)
    this, ytd = d.periods
    rules: dict[str, list[svc.Figure | None]] = {}
    for k, period in enumerate(d.periods):
        for fig in period.by_rule:
            rules.setdefault(fig.label, [None, None])[k] = fig
    return render(ctx, "dashboard.html.j2", d=d, this=this, ytd=ytd, rules=sorted(rules.items()),
                  ytd_streets={f.label: f for f in ytd.by_street},
                  charts=_charts(d), yuan=fen_to_yuan, streets=ctx.profile.streets,
                  can_publish=ctx.session.user.can("publish"))


def _charts(d: svc.Dashboard) -> dict[str, Markup]:
    """Every bar and column links to the worklist it counts."""
    this = d.periods[0]
    return {
        "trend": columns("各月问题线索", [t.month[2:] for t in d.trend], [t.findings for t in d.trend],
                         links=[t.href for t in d.trend]),
        "streets": bars(f"{d.month} 各街镇问题线索", [f.label for f in this.by_street],
                        {"问题线索": [f.count for f in this.by_street]}, width=520,
                        links=[f.href for f in this.by_street]),
        "ageing": bars("待处理线索账龄（自发现或重新打开起）", [f.label for f in this.ageing],
                       {"件数": [f.count for f in this.ageing]}, width=520, links=[f.href for f in this.ageing]),
    }


def dishonesty(ctx: Ctx) -> Response:
    """The month's active dishonesty records as a download (unmasked; ``publish`` only, logged)."""
    fmt = ctx.form.get("format", "xlsx")
    name, content, _ = publish_dishonesty(ctx.session, ctx.form.get("month", "").strip(), profile=ctx.profile,
                                          fmt=fmt)
    return Response(content, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})
