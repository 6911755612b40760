"""An inspector's look-up: one person's or staff member's relationship neighbourhood as a page.

A self-contained HTML page (template ``graph.html.j2``) with the neighbourhood
drawn and listed (relatives, staff posts, cases, shared phones and dwellings,
accounts, custody and kin filings, dishonesty records) and the K/C/D findings of
the month that touch it.
"""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl

from auditor.core.errors import AuditInputError
from auditor.engine.context import AuditContext
from auditor.engine.relations import neighbourhood
from auditor.engine.runner import load_catalogue, rules_in, run_rules
from auditor.reporting.drawings import legend, render_svg
from auditor.reporting.env import environment


def _centre(ctx: AuditContext, person_id: str | None, staff_id: str | None) -> str:
    if staff_id:
        staff = ctx.table("staff").filter(pl.col("staff_id") == staff_id.strip()) if ctx.has("staff") else None
        if staff is None or not staff.height:
            raise AuditInputError(f"工号 {staff_id} 不在数据包的 staff 表中 (staff id not found)")
        return staff["person_id"][0]
    pid = (person_id or "").strip().upper()
    known = [ctx.table(t).filter(pl.col(c) == pid).height for t, c in
             (("members", "person_id"), ("staff", "person_id"), ("relations", "person_id"),
              ("relations", "relative_id"), ("accounts", "holder_id"), ("ledger", "payee_id"),
              ("custody_filings", "custodian_id"), ("dishonesty", "person_id")) if ctx.has(t)]
    if not any(known):
        raise AuditInputError(f"身份证号 {person_id} 在数据包中未出现 (person id not found in the drop)")
    return pid


def render_page(ctx: AuditContext, *, person_id: str | None = None, staff_id: str | None = None) -> str:
    """The look-up page of one person (or the person behind a staff id)."""
    centre = _centre(ctx, person_id, staff_id)
    hood = neighbourhood(ctx, centre)
    catalogue = load_catalogue()
    codes = list(rules_in("graph"))
    frame, statuses = run_rules(ctx, codes)
    touch = (pl.col("person_id").is_in(list(hood["persons"])) | pl.col("staff_id").is_in(list(hood["staff"]))
             | pl.col("case_id").is_in(list(hood["cases"])) | pl.col("bank_account").is_in(list(hood["accounts"])))
    findings = [{**r, "rule_name": catalogue[r["rule"]].name, "paths": json.loads(r["evidence"]).get("paths", [])}
                for r in frame.filter(touch).iter_rows(named=True)]
    lists = {k: v for k, v in hood["lists"].items() if v}
    return environment().get_template("graph.html.j2").render(
        centre=next(n["label"] for n in hood["nodes"] if n["id"] == f"P:{centre}"),
        staff_id=staff_id, month=ctx.month, district=ctx.profile.district,
        generated_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        svg=render_svg(hood["nodes"], hood["edges"], width=1000, height=640), legend=legend(),
        lists=lists, findings=findings, not_run=[s for s in statuses if not s.ran],
        n_nodes=len(hood["nodes"]), n_edges=len(hood["edges"]))
