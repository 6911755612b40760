"""Search people, and a person's or staff member's page: every finding involving them across months and
a timeline from the run snapshots.

Search (auditors, inspectors) takes one box — a resident id, name, staff id, bank account, phone or case
id — and looks it up in the stored findings' people index (``finding_people``, which holds people named
only in another person's evidence) and in each month's snapshot people index
(``auditor.jobs.people_index``). Pages are for every role that reads findings: masked unless an auditor
or inspector unmasks with a reason; a street officer only for their own street's people (findings and
rows of their street). Every search and every page is written to the access log.

A person (or staff member) is addressed in URLs by an opaque token (``token_of``): the id enciphered with
a key derived from the access log's key (a four-round Feistel permutation over the id's bytes), so ids
stay out of browser history, proxies and the log's page paths, and no table maps tokens to people.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, or_, select

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_text, mask_value
from auditor.followup import logseal
from auditor.followup.accesslog import log_access
from auditor.ingest.schema import TABLES
from auditor.jobs.people_index import has_index, lookup
from auditor.jobs.snapshot import latest_by_month
from auditor.services.session import Refused, Session

MAX_PEOPLE = 50
MAX_FINDINGS = 200
MAX_TIMELINE = 600


class NotFound(AuditInputError):
    """No person, staff member or token by that name (a front end answers 404)."""


# --- opaque URL tokens -------------------------------------------------------------------------------

def _url_key() -> bytes:
    return hmac.new(logseal.current().key(), b"auditor.url-token.v1", hashlib.sha256).digest()


def _round(key: bytes, i: int, half: bytes, size: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < size:
        out += hmac.new(key, bytes([i, counter]) + half, hashlib.sha256).digest()
        counter += 1
    return out[:size]


def _feistel(data: bytes, key: bytes, *, decrypt: bool) -> bytes:
    n = len(data) // 2
    left, right = data[:n], data[n:]
    rounds = range(3, -1, -1) if decrypt else range(4)
    for i in rounds:
        if decrypt:  # undo: (L, R) <- (R xor F(L), L) ... with the halves' sizes kept
            left, right = bytes(a ^ b for a, b in zip(right, _round(key, i, left, len(right)), strict=True)), left
        else:
            left, right = right, bytes(a ^ b for a, b in zip(left, _round(key, i, right, len(left)), strict=True))
    return left + right


def token_of(ident: str) -> str:
    """The URL token of a resident id or staff id (deterministic, reversible only with the key)."""
    raw = ident.encode()
    data = bytes([len(raw)]) + raw + b"\0" * ((len(raw) + 1) % 2)
    return base64.urlsafe_b64encode(_feistel(data, _url_key(), decrypt=False)).decode().rstrip("=")


def id_of(token: str) -> str:
    """The id a token stands for; ``NotFound`` for a token this installation did not make."""
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        if len(data) < 2 or len(data) > 66:
            raise ValueError
        plain = _feistel(data, _url_key(), decrypt=True)
        ident = plain[1:1 + plain[0]].decode()
        if plain[0] > len(plain) - 1 or not ident or any(plain[1 + plain[0]:]):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise NotFound("链接无效或已过期 (unknown link)") from None
    return ident


# --- snapshots ---------------------------------------------------------------------------------------

def indexed_snapshots(root: Path) -> dict[str, Path]:
    """Month -> that month's latest snapshot, if it has its people index (snapshots without one are
    skipped)."""
    return {m: f for m, f in latest_by_month(root).items() if has_index(f)}


def _indexed(root: Path, keys: list[str]) -> pl.DataFrame:
    return lookup(indexed_snapshots(root), keys, "month")


# --- search ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchResult:
    """What one query found: people, staff and findings, masked unless ``unmasked``."""

    query: str
    people: list[dict[str, Any]] = field(default_factory=list)
    staff: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)


KIND_LABELS = {"person": "身份证号", "name": "姓名", "staff": "工号", "account": "银行账号", "phone": "电话",
               "case": "案件编号", "staff_filing": "工号", "finding": "问题线索中的人员"}
ROLE_LABELS = {"subject": "当事人", "payee": "领款人", "account_holder": "开户人", "custodian": "代管人",
               "relative": "亲属", "member": "家庭成员", "staff_person": "工作人员本人", "on_path": "关系路径上的人"}


def keys_of(query: str) -> list[str]:
    """The index keys a typed query may stand for: as typed, upper-cased (an id's X), digits only."""
    q = query.strip()
    compact = re.sub(r"[\s\-]", "", q)
    return sorted({k for k in (q, q.upper(), compact, compact.upper()) if k})


def search(s: Session, root: Path, query: str) -> SearchResult:
    """Everyone and everything ``query`` names, over the findings' people and every month's snapshot."""
    s.require("search", "search", target=query[:200] or None)
    query = query.strip()[:100]
    if not query:
        return SearchResult(query)
    keys = keys_of(query)
    hits = _indexed(root, keys)
    people: dict[str, dict[str, Any]] = {}
    staff: dict[str, dict[str, Any]] = {}
    for r in hits.sort("month", descending=True).iter_rows(named=True):
        pid = r["person_id"]
        if pid:
            p = people.setdefault(pid, {"person_id": pid, "names": set(), "streets": set(), "cases": set(),
                                        "months": set(), "via": set(), "findings": 0})
            p["names"] |= {r["name"]} - {None}
            p["streets"] |= {r["street"]} - {None}
            if r["case_id"] and r["table"] != "applications":
                p["cases"].add(r["case_id"])
            p["months"] |= {r["month"]} - {None}
            p["via"].add(KIND_LABELS.get(r["kind"], r["kind"]))
        if r["staff_id"] and r["kind"] in ("staff", "name", "phone", "account", "person"):
            staff.setdefault(r["staff_id"], {"staff_id": r["staff_id"], "person_id": pid, "name": r["name"],
                                             "street": r["street"], "info": r["info"], "month": r["month"]})
    fp, fd = store.finding_people, store.findings
    with s.engine.connect() as conn:
        direct = conn.execute(select(fp.c.person_id).where(fp.c.person_id.in_(keys)).distinct()).scalars().all()
        for pid in direct:
            p = people.setdefault(pid, {"person_id": pid, "names": set(), "streets": set(), "cases": set(),
                                        "months": set(), "via": set(), "findings": 0})
            p["via"].add(KIND_LABELS["finding"])
        pids = list(people)[:MAX_PEOPLE]
        counts: dict[str, int] = dict(conn.execute(select(fp.c.person_id, func.count(func.distinct(fp.c.finding_id)))
                                   .where(fp.c.person_id.in_(pids)).group_by(fp.c.person_id)).all()) if pids else {}
        cond = [fd.c.staff_id.in_(keys), fd.c.case_id.in_(keys)]
        if pids:
            cond.append(fd.c.finding_id.in_(select(fp.c.finding_id).where(fp.c.person_id.in_(pids))))
        found = conn.execute(select(fd).where(or_(*cond)).order_by(fd.c.last_month.desc(), fd.c.finding_id)
                             .limit(MAX_FINDINGS)).mappings().all()
        roles: dict[str, set[str]] = defaultdict(set)
        fids = [f["finding_id"] for f in found]
        if fids and pids:
            for fid, role in conn.execute(select(fp.c.finding_id, fp.c.role).where(
                    fp.c.finding_id.in_(fids), fp.c.person_id.in_(pids))).all():
                roles[fid].add(ROLE_LABELS.get(role, role))
        titles = _titles(conn, fids)
    log_access(s.engine, s.user, "search", target=query,
               detail={"people": len(people), "staff": len(staff), "findings": len(found)})
    out_people = []
    for pid in pids:
        p = people[pid]
        out_people.append({"token": token_of(pid), "person_id": mask_value(pid), "names": sorted(p["names"]),
                           "streets": sorted(p["streets"]), "cases": sorted(p["cases"])[:5],
                           "months": sorted(m for m in p["months"] if m), "via": sorted(p["via"]),
                           "findings": counts.get(pid, 0)})
    out_staff = [st | {"token": token_of(sid), "person_id": mask_value(st["person_id"])}
                 for sid, st in list(staff.items())[:MAX_PEOPLE]]
    out_findings = [_finding_row(f, titles.get(f["finding_id"], ""), sorted(roles.get(f["finding_id"], set())))
                    for f in found]
    return SearchResult(query, out_people, out_staff, out_findings)


def _titles(conn: Any, fids: list[str]) -> dict[str, str]:
    """Each finding's title in its latest month, masked."""
    if not fids:
        return {}
    oc = store.occurrences
    rows = conn.execute(select(oc.c.finding_id, oc.c.month, oc.c.title).where(oc.c.finding_id.in_(fids))).all()
    latest: dict[str, tuple[str, str]] = {}
    for fid, month, title in rows:
        if fid not in latest or month > latest[fid][0]:
            latest[fid] = (month, title)
    return {fid: mask_text(t) or "" for fid, (_, t) in latest.items()}


def _finding_row(f: Any, title: str, roles: list[str]) -> dict[str, Any]:
    return {"finding_id": f["finding_id"], "rule": f["rule"], "status": f["status"],
            "street": f["assigned_street"] or f["street"] or "区级", "first_month": f["first_month"],
            "last_month": f["last_month"], "title": title, "roles": roles}


# --- person and staff pages --------------------------------------------------------------------------

@dataclass(frozen=True)
class ProfileView:
    """A person's or staff member's page: who, their findings with history, their timeline."""

    kind: str  # person | staff
    ident: str  # resident id or staff id, masked unless unmasked
    person_id: str | None  # the resident id (of the staff member), masked unless unmasked
    names: list[str]
    streets: list[str]
    staff_posts: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    months: list[str]  # snapshot months holding rows of them
    unmasked: bool
    reason: str | None


def _street_only(s: Session) -> str | None:
    return s.user.street if s.user.role == "street" else None


def _findings_of(s: Session, pid: str | None, staff_id: str | None, unmasked: bool) -> list[dict[str, Any]]:
    """Every finding involving the person (wherever they appear) or the staff member, with its months,
    the roles they appear in, and its events; a street officer's street only."""
    fp, fd, ev = store.finding_people, store.findings, store.events
    cond: list[Any] = []
    if pid:
        cond.append(fd.c.finding_id.in_(select(fp.c.finding_id).where(fp.c.person_id == pid)))
    if staff_id:
        cond.append(fd.c.staff_id == staff_id)
    query = select(fd).where(or_(*cond))
    own = _street_only(s)
    if own:
        query = query.where(func.coalesce(fd.c.assigned_street, fd.c.street) == own)
    with s.engine.connect() as conn:
        found = conn.execute(query.order_by(fd.c.last_month.desc(), fd.c.finding_id)
                             .limit(MAX_FINDINGS)).mappings().all()
        fids = [f["finding_id"] for f in found]
        appear: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        if fids and pid:
            for fid, month, role in conn.execute(select(fp.c.finding_id, fp.c.month, fp.c.role).where(
                    fp.c.finding_id.in_(fids), fp.c.person_id == pid)).all():
                appear[fid]["months"].add(month)
                appear[fid]["roles"].add(ROLE_LABELS.get(role, role))
        events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if fids:
            for e in conn.execute(select(ev).where(ev.c.finding_id.in_(fids)).order_by(ev.c.event_id)).mappings():
                events[e["finding_id"]].append(dict(e) | {"note": e["note"] if unmasked else mask_text(e["note"])})
        titles = _titles(conn, fids) if not unmasked else _raw_titles(conn, fids)
    out = []
    for f in found:
        row = _finding_row(f, titles.get(f["finding_id"], ""), sorted(appear[f["finding_id"]]["roles"]))
        if staff_id and f["staff_id"] == staff_id:
            row["roles"] = sorted({*row["roles"], "经办/审批工作人员"})
        row["months"] = sorted(appear[f["finding_id"]]["months"]) or [f["last_month"]]
        row["events"] = events.get(f["finding_id"], [])
        out.append(row)
    return out


def _raw_titles(conn: Any, fids: list[str]) -> dict[str, str]:
    oc = store.occurrences
    latest: dict[str, tuple[str, str]] = {}
    for fid, month, title in conn.execute(select(oc.c.finding_id, oc.c.month, oc.c.title)
                                          .where(oc.c.finding_id.in_(fids))).all():
        if fid not in latest or month > latest[fid][0]:
            latest[fid] = (month, title)
    return {fid: t for fid, (_, t) in latest.items()}


TABLE_LABELS = {name: t.label for name, t in TABLES.items()}


def _timeline(rows: pl.DataFrame, own: str | None, unmasked: bool) -> list[dict[str, Any]]:
    """Snapshot rows as a timeline, newest first; a row repeated in later snapshots is shown once with
    the months it was seen in."""
    rows = rows.filter(pl.col("kind").is_in(["person", "staff_filing"]))
    if own:
        rows = rows.filter(pl.col("street").is_null() | (pl.col("street") == own))
    if rows.is_empty():
        return []
    same = ["table", "when", "case_id", "staff_id", "street", "amount_fen", "other", "info"]
    grouped = (rows.group_by(same, maintain_order=True)
               .agg(seen=pl.col("month").unique().sort())
               .sort(["when", "table"], descending=[True, False], nulls_last=True).head(MAX_TIMELINE))
    out = []
    for r in grouped.iter_rows(named=True):
        other = r["other"]
        out.append({"when": r["when"] or "", "table": TABLE_LABELS.get(r["table"], r["table"]),
                    "case_id": r["case_id"] or "", "staff_id": r["staff_id"] or "", "street": r["street"] or "",
                    "amount_fen": r["amount_fen"], "info": r["info"] or "",
                    "other": other if unmasked or not other else mask_value(other),
                    "seen": f"{r['seen'][0]}–{r['seen'][-1]}" if len(r["seen"]) > 1 else r["seen"][0]})
    return out


def _open(s: Session, kind: str, token: str, unmasked: bool, reason: str | None) -> tuple[str, bool, str]:
    action = f"{kind}.view"
    ident = id_of(token)
    s.require("read", action, target=ident)
    if unmasked:
        s.unmasked(True, action, target=ident)
        if not (reason or "").strip():
            raise s.refuse(f"{action}.unmasked", AuditInputError(
                "查看完整信息须填写事由 (a reason is required to unmask)"), ident)
    return ident, unmasked, action


def person_view(s: Session, root: Path, token: str, *, unmasked: bool = False,
                reason: str | None = None) -> ProfileView:
    """The page of the person behind ``token``; ``unmasked`` (auditor, inspector) needs a ``reason``."""
    pid, unmasked, action = _open(s, "person", token, unmasked, reason)
    rows = _indexed(root, [pid])
    own = _street_only(s)
    findings = _findings_of(s, pid, None, unmasked)
    mine = rows.filter(pl.col("street") == own).height if own else 0
    if own and not findings and not mine:
        raise s.refuse(action, Refused(f"该人员不属于 {own} 的案件或问题线索，街镇经办只能查看本街镇人员 "
                                       "(not your street)"), pid)
    if not findings and rows.is_empty():
        raise NotFound("在问题线索和数据快照中都没有这个人 (person not found)")
    return _view(s, "person", pid, pid, rows, findings, unmasked, reason, action)


def staff_view(s: Session, root: Path, token: str, *, unmasked: bool = False,
               reason: str | None = None) -> ProfileView:
    """The page of the staff member behind ``token``: their posts, findings (as staff or as a person) and
    their own timeline."""
    sid, unmasked, action = _open(s, "staff", token, unmasked, reason)
    posts = _indexed(root, [sid]).filter(pl.col("kind") == "staff")
    pid = posts.sort("month")["person_id"][-1] if posts.height else None
    rows = _indexed(root, [k for k in (pid, sid) if k])
    own = _street_only(s)
    findings = _findings_of(s, pid, sid, unmasked)
    if own and not findings and not posts.filter(pl.col("street") == own).height:
        raise s.refuse(action, Refused(f"该工作人员不属于 {own}，街镇经办只能查看本街镇人员 (not your street)"), sid)
    if not findings and posts.is_empty():
        raise NotFound("在问题线索和数据快照中都没有这个工号 (staff id not found)")
    return _view(s, "staff", sid, pid, rows, findings, unmasked, reason, action)


def _view(s: Session, kind: str, ident: str, pid: str | None, rows: pl.DataFrame, findings: list[dict[str, Any]],
          unmasked: bool, reason: str | None, action: str) -> ProfileView:
    own = _street_only(s)
    posts = [{"staff_id": r["staff_id"], "street": r["street"] or "", "info": r["info"] or "", "month": r["month"],
              "token": token_of(r["staff_id"])}
             for r in rows.filter(pl.col("kind") == "staff").unique(["staff_id", "street", "info"], keep="last")
             .sort("staff_id").iter_rows(named=True) if not own or r["street"] == own]
    mine = rows if not own else rows.filter(pl.col("street").is_null() | (pl.col("street") == own))
    names: list[str] = []
    if pid:
        named = mine.filter((pl.col("person_id") == pid) & pl.col("name").is_not_null())
        main = named.filter(pl.col("table").is_in(["members", "staff"]))  # the registers' names before others'
        names = sorted(set((main if main.height else named)["name"].to_list()))
    streets = sorted({st for st in mine["street"].to_list() if st})
    log_access(s.engine, s.user, action, target=ident, unmasked=unmasked,
               detail={"reason": reason.strip()} if unmasked and reason else {})
    shown = (lambda v: v) if unmasked else mask_value
    return ProfileView(kind, shown(ident) if kind == "person" else ident, shown(pid) if pid else None, names,
                       streets, posts, findings, _timeline(rows, own, unmasked),
                       sorted({m for m in rows["month"].to_list() if m}), unmasked,
                       reason.strip() if unmasked and reason else None)


def people_of_finding(s: Session, fid: str, staff_id: str | None = None) -> list[dict[str, Any]]:
    """The people a finding names (its people index) and its staff member, each with the token of their
    page, masked, for users who may search people (others get none: their finding page stays as it was).
    The finding page that shows them is already on the access log."""
    if not s.user.can("search"):
        return []
    fp = store.finding_people
    with s.engine.connect() as conn:
        rows = conn.execute(select(fp.c.person_id, fp.c.role).where(fp.c.finding_id == fid)
                            .distinct().order_by(fp.c.person_id, fp.c.role)).all()
    roles: dict[str, set[str]] = defaultdict(set)
    for pid, role in rows:
        roles[pid].add(ROLE_LABELS.get(role, role))
    people = [{"href": f"/people/{token_of(pid)}", "shown": mask_value(pid),
               "roles": sorted(r)} for pid, r in roles.items()]
    if staff_id:
        people.append({"href": f"/staff/{token_of(staff_id)}", "shown": staff_id,
                       "roles": ["工作人员"]})
    return people
