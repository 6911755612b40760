"""An inspector's look-up: one person's or staff member's relationship neighbourhood as a page.

A self-contained HTML page (template ``graph.html.j2``) with the neighbourhood
drawn and listed (relatives, staff posts, cases, shared phones and dwellings,
accounts, custody and kin filings, dishonesty records) and the K/C/D findings of
the month that touch it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl

from auditor.core.errors import AuditInputError
from auditor.core.masking import PERSONAL_KEYS, mask_record, mask_value
from auditor.core.periods import beijing_text
from auditor.engine.context import AuditContext
from auditor.engine.relations import neighbourhood
from auditor.engine.runner import load_catalogue, rules_in, run_rules
from auditor.ingest.schema import TABLES
from auditor.reporting.drawings import legend, render_svg
from auditor.reporting.env import environment
from auditor.reporting.labels import KIND_LABELS

# the Chinese labels of the contract's id, phone and account columns and of the page's own person columns
LABEL_KEYS = PERSONAL_KEYS | {c.label for t in TABLES.values() for c in t.columns
                              if c.kind in ("person_id", "phone", "account")} | {"人员", "共用者"}
LABEL_KIND = {c.label: c.kind for t in TABLES.values() for c in t.columns if c.kind in KIND_LABELS}
NAME_OF = {"姓名": "身份证号", "共用者姓名": "共用者"}  # a name column and the id column it names
ELSEWHERE = "外街镇人员"


class NotYourStreet(AuditInputError):
    """A street officer asked for a person outside their street."""


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


def street_people(ctx: AuditContext, street: str) -> set[str]:
    """The members of ``street``'s cases and the persons behind its staff posts."""
    cases = ctx.table("cases").filter(pl.col("street") == street)["case_id"].to_list()
    people = set(ctx.table("members").filter(pl.col("case_id").is_in(cases))["person_id"])
    if ctx.has("staff"):
        people |= set(ctx.table("staff").filter(pl.col("street") == street)["person_id"])
    return people


def _masked_view(hood: dict, findings: list[dict], own: set[str] | None) -> tuple[dict, list[dict]]:
    """Ids, phones and accounts masked by field; with ``own`` (a street officer's people) every other
    person is drawn without a name and their rows and findings left out."""
    nodes = []
    for n in hood["nodes"]:
        label = n["label"]
        if own is not None and n["id"].startswith("P:") and n["id"][2:] not in own:
            label = f"{ELSEWHERE} {mask_value(n['id'][2:])}"
        nodes.append(mask_record({"id": n["id"], "label": label}))
    lists = {}
    for title, rows in hood["lists"].items():
        if own is not None:
            rows = [r | {name: ELSEWHERE for name, pid in NAME_OF.items() if r.get(pid) and r[pid] not in own}
                    for r in rows if any(r.get(k) in own for k in LABEL_KEYS if isinstance(r.get(k), str))]
        phone = [r | ({"内容": mask_value(r["内容"])} if r.get("类型") == "电话" else {}) for r in rows]
        lists[title] = [mask_record(r, LABEL_KEYS) for r in phone]  # a shared phone is masked, an address not
    findings = [f | {"person_id": mask_value(f["person_id"]), "paths": mask_record(_anonymised(f, own)),
                     "title": mask_record(f["title"])} for f in findings]
    return {**hood, "nodes": nodes, "edges": mask_record(hood["edges"]), "lists": lists}, findings


def _anonymised(finding: dict, own: set[str] | None) -> list[str]:
    """A finding's path labels with the people outside ``own`` shown without their names."""
    paths = finding["paths"]
    if own is None:
        return paths
    for n in finding["nodes"]:
        if n["id"].startswith("P:") and n["id"][2:] not in own and "(" in n.get("label", ""):
            shown = f"{ELSEWHERE} ({n['label'].rsplit('(', 1)[1]}"
            paths = [p.replace(n["label"], shown) for p in paths]
    return paths


def render_page(ctx: AuditContext, *, person_id: str | None = None, staff_id: str | None = None,
                masked: bool = True, own_street: str | None = None) -> str:
    """The look-up page of one person (or the person behind a staff id); ``masked`` for every viewer
    without an unmasked view, and for a street officer (``own_street``) only their street's people named."""
    centre = _centre(ctx, person_id, staff_id)
    own = street_people(ctx, own_street) if own_street else None
    if own is not None and centre not in own:
        raise NotYourStreet(f"该人员不属于 {own_street} 的案件或工作人员，街镇经办只能查询本街镇人员 (not your street)")
    hood = neighbourhood(ctx, centre)
    catalogue = load_catalogue()
    codes = list(rules_in("graph"))
    frame, statuses = run_rules(ctx, codes)
    touch = (pl.col("person_id").is_in(list(hood["persons"])) | pl.col("staff_id").is_in(list(hood["staff"]))
             | pl.col("case_id").is_in(list(hood["cases"])) | pl.col("bank_account").is_in(list(hood["accounts"])))
    findings = []
    for r in frame.filter(touch).iter_rows(named=True):
        ev = json.loads(r["evidence"])
        findings.append({**r, "rule_name": catalogue[r["rule"]].name, "paths": ev.get("paths", []),
                         "nodes": ev.get("nodes", [])})
    at = next(i for i, n in enumerate(hood["nodes"]) if n["id"] == f"P:{centre}")
    if own_street:
        findings = [f for f in findings if f["street"] == own_street]
    if masked or own is not None:
        hood, findings = _masked_view(hood, findings, own)
    lists = {k: [{c: KIND_LABELS[LABEL_KIND[c]].get(v, v) if c in LABEL_KIND else v for c, v in row.items()}
                 for row in rows] for k, rows in hood["lists"].items() if rows}  # codes shown as labels
    return environment().get_template("graph.html.j2").render(
        centre=hood["nodes"][at]["label"],
        staff_id=staff_id, month=ctx.month, district=ctx.profile.district,
        generated_at=beijing_text(datetime.now(UTC)) + "（北京时间）",
        svg=render_svg(hood["nodes"], hood["edges"], width=1000, height=640), legend=legend(),
        lists=lists, findings=findings, not_run=[s for s in statuses if not s.ran],
        n_nodes=len(hood["nodes"]), n_edges=len(hood["edges"]))
