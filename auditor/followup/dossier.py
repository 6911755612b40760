"""The case dossier (案卷) of one finding: evidence, relationship paths/drawing, full history.

Self-contained HTML rendered through the one jinja2 environment
(``reports/dossier.html.j2``). Personal data is masked unless the viewer asked
for unmasked data. A drawing in ``evidence["svg"]`` is embedded as an image
(``data:`` URI), so any script inside it never runs.
"""

from __future__ import annotations

import base64
import json

from auditor.core.masking import mask_record, mask_text
from auditor.core.money import fen_to_yuan
from auditor.core.periods import beijing_text
from auditor.core.vocab import FINDING_STATUS_LABELS, USER_ROLE_LABELS
from auditor.engine.runner import load_catalogue
from auditor.followup.lifecycle import EVENT_LABELS, status_label
from auditor.followup.privacy import User
from auditor.reporting.drawings import legend, render_svg
from auditor.reporting.env import environment
from auditor.reporting.labels import evidence_view


def evidence_parts(evidence: str, unmasked: bool) -> dict:
    """Evidence as fields and tables, readable paths, the relationship drawing and an optional svg
    (as a data URI), masked by field as needed."""
    m = (lambda t: t) if unmasked else mask_text
    try:
        data = json.loads(evidence)
    except (TypeError, ValueError):
        return {"view": {"fields": [("内容", m(str(evidence)))], "tables": []}, "paths": [], "svg": None,
                "drawing": None}
    if not unmasked:
        data = mask_record(data)
    paths, svg, drawing = [], None, None
    if isinstance(data, dict):
        if data.get("nodes"):
            drawing = render_svg(data["nodes"], data.get("edges", []), width=900)
        raw = data.get("paths") or ([data["path"]] if data.get("path") else [])
        if isinstance(raw, list):
            paths = [m(p if isinstance(p, str) else " → ".join(map(str, p))) for p in raw]
        given = data.get("svg")
        if isinstance(given, str) and given.lstrip().startswith("<svg"):
            svg = "data:image/svg+xml;base64," + base64.b64encode(m(given).encode()).decode()
        data = {k: v for k, v in data.items() if k != "svg"}
    return {"view": evidence_view(data), "paths": paths, "svg": svg, "drawing": drawing}


def render_dossier(finding: dict, occurrences: list[dict], events: list[dict], *, unmasked: bool,
                   viewer: User) -> str:
    m = (lambda t: t) if unmasked else mask_text
    rules = load_catalogue()
    months = [{"month": o["month"], "amount": fen_to_yuan(o["amount_fen"]), "title": m(o["title"]),
               **evidence_parts(o["evidence"], unmasked)} for o in occurrences]
    history = [{"at": beijing_text(e["at"]), "actor": e["actor"], "action": EVENT_LABELS.get(e["action"], e["action"]),
                "from_status": status_label(e["from_status"]), "to_status": status_label(e["to_status"]),
                "note": m(e["note"] or ""), "amount": fen_to_yuan(e["amount_fen"])} for e in events]
    rule = rules.get(finding["rule"])
    data = {
        "finding": {**finding, "person_id": m(finding["person_id"]),
                    "recovered": fen_to_yuan(finding["amount_recovered_fen"]),
                    "status_label": FINDING_STATUS_LABELS[finding["status"]]},
        "rule_name": rule.name if rule else finding["rule"],
        "rule_doc": (rule.__doc__ or "").strip().splitlines()[0] if rule else "",
        "months": list(reversed(months)), "history": history,
        "viewer": f"{viewer.name}（{USER_ROLE_LABELS[viewer.role]}）", "unmasked": unmasked,
    }
    return environment().get_template("dossier.html.j2").render(d=data, legend=legend())
