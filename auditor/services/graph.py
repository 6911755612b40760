"""The interactive relationship graph's data (``/graph/data``): a person's or staff member's small
neighbourhood in one month, read from the month's latest run snapshot, with that month's findings on it.

Nodes are people (``P:``), cases / households (``C:``), staff posts (``S:``), phones (``T:``), dwellings
(``D:``) and bank accounts (``A:``); every edge has a kind of ``KINDS``. The focus and each expanded node
bring their links (at most ``PER_NODE`` each, those in findings first); a phone, dwelling or account next
to one of them also brings the people who share it, so "shares a phone with" is one link. Only the rows
touching the ids at hand are read (lazy Parquet scans, the filter pushed down); networkx lays out the
small result, at most ``MAX_NODES`` nodes (``capped`` says when more were left out).

Node keys are opaque (an HMAC of the node id, keyed by the access log's key, per viewer and month): the
JSON never holds an id the viewer may not see, and ``expand`` names keys that are resolved by rebuilding
the graph the viewer was shown, one expansion after the other, never by trusting a client's id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import polars as pl
from sqlalchemy import select
from sqlalchemy.engine import Engine

from auditor import store
from auditor.core.config import Profile
from auditor.core.errors import AuditInputError
from auditor.core.masking import mask_text, mask_value
from auditor.core.vocab import CASE_STATUS_LABELS, PROGRAM_LABELS, RELATION_LABELS, SEVERITY_LABELS, STAFF_ROLE_LABELS
from auditor.engine.runner import load_catalogue
from auditor.followup import logseal
from auditor.followup.accesslog import log_access
from auditor.ingest.compact import as_text
from auditor.jobs.snapshot import MANIFEST, snapshot_root
from auditor.services.session import Refused, Session

KINDS = ("kin", "phone", "dwelling", "account", "custody", "post")
KIND_LABELS = {"kin": "亲属与家庭", "phone": "同电话", "dwelling": "同住址", "account": "银行账户",
               "custody": "卡折代管", "post": "任职与经办"}
NODE_KINDS = {"P": "person", "C": "case", "S": "post", "T": "phone", "D": "dwelling", "A": "account"}
HUBS = ("T", "D", "A")  # shared by several people: one link from a person to those who share it
MAX_NODES = 150
PER_NODE = 40
MAX_EXPAND = 12
SCAN_LIMIT = 5000  # rows read per table and request at most (a post that handled every case of a district)
ELSEWHERE = "外街镇人员"


@dataclass(frozen=True)
class MonthSnapshot:
    """The latest run snapshot of a month, read table by table with lazy scans."""

    folder: Path
    run_id: int
    month: str

    def rows(self, table: str, cols: Sequence[str], where: pl.Expr) -> pl.DataFrame:
        return self.fetch({table: (table, cols, where)})[table]

    def fetch(self, queries: dict[str, tuple[str, Sequence[str], pl.Expr]]) -> dict[str, pl.DataFrame]:
        """Several filtered reads (name -> table, columns, filter), scanned together (``collect_all``)."""
        out, lazy = {}, {}
        for name, (table, cols, where) in queries.items():
            path = self.folder / f"{table}.parquet"
            if path.is_file():
                lazy[name] = as_text(pl.scan_parquet(path).filter(where).select(cols).head(SCAN_LIMIT))
            else:
                out[name] = pl.DataFrame(schema=dict.fromkeys(cols, pl.String))
        return out | dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True))


def month_snapshot(engine: Engine, profile: Profile, month: str) -> MonthSnapshot:
    """The snapshot of ``month``'s latest run that still has one."""
    root = snapshot_root(profile, engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        run_ids = conn.execute(select(store.runs.c.run_id).where(store.runs.c.month == month)
                               .order_by(store.runs.c.run_id.desc())).scalars().all()
    for run_id in run_ids:
        if (root / str(run_id) / MANIFEST).is_file():
            return MonthSnapshot(root / str(run_id), int(run_id), month)
    raise AuditInputError(f"{month} 没有可用的数据快照（该月尚未审计，或快照已过保留期限被删除） "
                          f"(no snapshot for {month})")


def snapshot_months(s: Session) -> list[str]:
    """Months with a run, newest first (the graph page's choice of month)."""
    with s.engine.connect() as conn:
        return list(conn.execute(select(store.runs.c.month).distinct().order_by(store.runs.c.month.desc())).scalars())


def _ids(values: Iterable[str]) -> pl.Series:
    """``values`` as one list value, for ``is_in``."""
    return pl.Series(sorted(values), dtype=pl.String).implode()


Edge = tuple[str, str, str, str]  # source, target, kind, label


@dataclass
class _Graph:
    """What has been read so far: edges by (source, target, kind), facts per node for labels."""

    snap: MonthSnapshot
    edges: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)  # node -> discovery rank
    facts: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    more: dict[str, int] = field(default_factory=dict)  # node -> links left out by PER_NODE
    expanded: list[str] = field(default_factory=list)

    def add(self, e: Edge) -> None:
        for n in e[:2]:
            self.order.setdefault(n, len(self.order))
        self.edges.setdefault((e[0], e[1], e[2]), set()).add(e[3])

    def note(self, n: str, **facts: Any) -> None:
        for k, v in facts.items():
            if v is not None and k not in self.facts[n]:
                self.facts[n][k] = v


def _touching(g: _Graph, ids: set[str]) -> list[Edge]:
    """Every link of the nodes ``ids`` in the month's snapshot (person, case, post, phone, dwelling, account)."""
    by: dict[str, set[str]] = defaultdict(set)
    for i in ids:
        by[i[0]].add(i[2:])
    m = g.snap.month
    people, cases, posts = _ids(by["P"]), _ids(by["C"]), _ids(by["S"])
    phones, homes, accounts = _ids(by["T"]), _ids(by["D"]), _ids(by["A"])

    def anyof(*terms: tuple[str, str, pl.Series]) -> pl.Expr:  # (column, kind, ids): only kinds asked for
        return pl.any_horizontal(*[pl.col(c).is_in(v) for c, k, v in terms if by[k]])

    contact = (("person_id", "P", people), ("phone", "T", phones), ("address_key", "D", homes))
    queries: dict[str, tuple[str, Sequence[str], pl.Expr]] = {}
    if by["P"]:
        queries["relations"] = ("relations", ["person_id", "relative_id", "relation"],
                                anyof(("person_id", "P", people), ("relative_id", "P", people)))
    if by["P"] or by["A"]:
        queries["custody"] = ("custody_filings", ["filing_id", "person_id", "bank_account", "custodian_id",
                                                  "custodian_name", "start_date", "end_date"],
                              anyof(("person_id", "P", people), ("custodian_id", "P", people),
                                    ("bank_account", "A", accounts)))
        queries["accounts"] = ("accounts", ["bank_account", "holder_id"],
                               anyof(("holder_id", "P", people), ("bank_account", "A", accounts)))
        queries["ledger"] = ("ledger", ["payee_id", "bank_account"],
                             (pl.col("month") == m) & (pl.col("status") == "paid")
                             & anyof(("payee_id", "P", people), ("bank_account", "A", accounts)))
    if by["P"] or by["T"] or by["D"] or by["C"]:  # key columns only: names and addresses are read for the nodes shown
        queries["members"] = ("members", ["case_id", "person_id", "phone", "address_key"],
                              anyof(*contact, ("case_id", "C", cases)))
    if by["P"] or by["T"] or by["D"] or by["S"]:
        queries["staff"] = ("staff", ["staff_id", "person_id", "name", "role", "street", "phone", "address_key"],
                            anyof(*contact, ("staff_id", "S", posts)))
    if by["P"] or by["C"] or by["S"]:
        queries["cases"] = ("cases", ["case_id", "program", "payee_id", "street", "status", "approved_by",
                                      "handled_by"],
                            anyof(("payee_id", "P", people), ("case_id", "C", cases), ("approved_by", "S", posts),
                                  ("handled_by", "S", posts)))
    rows = g.snap.fetch(queries)
    out: list[Edge] = []
    for r in rows.get("relations", pl.DataFrame()).iter_rows(named=True):  # "relative_id is person_id's relation"
        if r["person_id"] != r["relative_id"]:
            out.append((f"P:{r['person_id']}", f"P:{r['relative_id']}", "kin",
                        RELATION_LABELS.get(r["relation"], r["relation"] or "亲属")))
    if "custody" in rows:
        out += _custody(g, rows["custody"])
    for r in rows.get("members", pl.DataFrame()).iter_rows(named=True):
        if r["person_id"] in by["P"] or r["case_id"] in by["C"]:
            out.append((f"P:{r['person_id']}", f"C:{r['case_id']}", "kin", "成员"))
        out += _contacts(r, by)
    for r in rows.get("staff", pl.DataFrame()).iter_rows(named=True):
        _note_post(g, r)
        g.note(f"P:{r['person_id']}", name=r["name"], staff=True)
        if r["person_id"] in by["P"] or r["staff_id"] in by["S"]:
            out.append((f"P:{r['person_id']}", f"S:{r['staff_id']}", "post", "任职"))
        out += _contacts(r, by)
    for r in rows.get("cases", pl.DataFrame()).iter_rows(named=True):
        _note_case(g, r)
        if r["payee_id"] in by["P"] or r["case_id"] in by["C"]:
            out.append((f"P:{r['payee_id']}", f"C:{r['case_id']}", "kin", "领款人"))
        for col, label in (("approved_by", "审批人"), ("handled_by", "经办人")):
            if r[col] and (r[col] in by["S"] or r["case_id"] in by["C"]):
                out.append((f"S:{r[col]}", f"C:{r['case_id']}", "post", label))
    for r in rows.get("accounts", pl.DataFrame()).iter_rows(named=True):
        out.append((f"A:{r['bank_account']}", f"P:{r['holder_id']}", "account", "开户人"))
    for r in rows.get("ledger", pl.DataFrame()).unique().iter_rows(named=True):
        out.append((f"P:{r['payee_id']}", f"A:{r['bank_account']}", "account", "收款账户"))
    return [e for e in out if e[0] in ids or e[1] in ids]


def _contacts(r: dict, by: dict[str, set[str]]) -> list[Edge]:
    """A member's or staff member's phone and dwelling links (for the people, phones and dwellings asked)."""
    out: list[Edge] = []
    mine = r["person_id"] in by["P"]
    if r["phone"] and (mine or r["phone"] in by["T"]):
        out.append((f"P:{r['person_id']}", f"T:{r['phone']}", "phone", "电话"))
    if r["address_key"] and (mine or r["address_key"] in by["D"]):
        out.append((f"P:{r['person_id']}", f"D:{r['address_key']}", "dwelling", "住址"))
    return out


def _custody(g: _Graph, filings: pl.DataFrame) -> list[Edge]:
    """Custody filings covering the month: ward —代管账户→ account —代管人→ custodian."""
    first = f"{g.snap.month}-01"
    out: list[Edge] = []
    for f in filings.iter_rows(named=True):
        end = f["end_date"]
        if (end is not None and str(end) < first) or str(f["start_date"])[:7] > g.snap.month:
            continue
        g.note(f"P:{f['custodian_id']}", name=f["custodian_name"], custodian=True)
        out.append((f"P:{f['person_id']}", f"A:{f['bank_account']}", "custody", f"代管账户 {f['filing_id']}"))
        out.append((f"A:{f['bank_account']}", f"P:{f['custodian_id']}", "custody", f"代管人 {f['filing_id']}"))
    return out


def _note_post(g: _Graph, r: dict) -> None:
    g.note(f"S:{r['staff_id']}", name=r["name"], street=r["street"], role=STAFF_ROLE_LABELS.get(r["role"], r["role"]))


def _note_case(g: _Graph, r: dict) -> None:
    g.note(f"C:{r['case_id']}", program=PROGRAM_LABELS.get(r["program"], r["program"]), street=r["street"],
           status=CASE_STATUS_LABELS.get(r["status"], r["status"]))


RANK = {"P": 0, "S": 1, "C": 2, "A": 3, "T": 4, "D": 5}


def _grow(g: _Graph, centres: list[str], hot: Callable[[Iterable[str]], set[str]]) -> None:
    """Add the links of ``centres`` (at most ``PER_NODE`` each, nodes in findings first), then of the
    phones, dwellings and accounts they reach from a person."""
    hubs: list[str] = []
    for wave in (centres, hubs):
        todo = {c for c in wave if c not in g.expanded}
        if not todo:
            continue
        g.expanded.extend(sorted(todo))
        found = _touching(g, todo)
        findings = hot({n for e in found for n in e[:2]})
        for c in sorted(todo):
            mine = [e for e in found if c in e[:2]]
            others = sorted({e[1] if e[0] == c else e[0] for e in mine},
                            key=lambda n: (n not in findings, RANK[n[0]], n))
            kept = set(others[:PER_NODE])
            g.more[c] = len(others) - len(kept)
            for e in mine:
                other = e[1] if e[0] == c else e[0]
                if other in kept:
                    g.add(e)
                    if wave is centres and c[0] == "P" and other[0] in HUBS and other not in hubs:
                        hubs.append(other)


@dataclass
class _Findings:
    """The month's findings touching nodes, looked up in the store per batch of node ids (cached)."""

    engine: Engine
    month: str
    street: str | None  # a street officer sees their street's findings only
    of_node: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    asked: set[str] = field(default_factory=set)
    rows: dict[str, dict] = field(default_factory=dict)

    def __call__(self, nodes: Iterable[str]) -> set[str]:
        """The nodes among ``nodes`` that are in a finding of the month."""
        nodes = set(nodes)
        new = nodes - self.asked
        self.asked |= new
        o, fp = store.occurrences, store.finding_people
        cols = {"C": o.c.case_id, "S": o.c.staff_id, "A": o.c.bank_account, "P": o.c.person_id}
        wanted = sorted(new)
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 400):
                chunk = wanted[i:i + 400]
                by: dict[str, list[str]] = defaultdict(list)
                for n in chunk:
                    by[n[0]].append(n[2:])
                found: list[tuple[str, str]] = []
                for kind, col in cols.items():
                    if by[kind]:
                        q = select(o.c.finding_id, col).where(o.c.month == self.month, col.in_(by[kind]))
                        found += [(fid, f"{kind}:{v}") for fid, v in conn.execute(q)]
                if by["P"]:
                    q = select(fp.c.finding_id, fp.c.person_id).where(fp.c.month == self.month,
                                                                        fp.c.person_id.in_(by["P"]))
                    found += [(fid, f"P:{v}") for fid, v in conn.execute(q)]
                self._load(conn, {fid for fid, _ in found})
                for fid, n in found:
                    if fid in self.rows:
                        self.of_node[n].add(fid)
        return {n for n in nodes if self.of_node.get(n)}

    def _load(self, conn: Any, fids: set[str]) -> None:
        o = store.occurrences
        todo = sorted(fids - set(self.rows))
        if not todo:
            return
        q = select(o.c.finding_id, o.c.rule, o.c.severity, o.c.street, o.c.title, o.c.evidence).where(
            o.c.month == self.month, o.c.finding_id.in_(todo))
        for r in conn.execute(q).mappings():
            if self.street is None or r["street"] == self.street:
                self.rows[r["finding_id"]] = dict(r)


def _keyer(s: Session, month: str) -> Callable[[str], str]:
    secret = hmac.new(logseal.current().key(), b"auditor graph node keys", hashlib.sha256).digest()

    def key(node: str) -> str:
        return "n" + hmac.new(secret, f"{s.user.name}\0{month}\0{node}".encode(), hashlib.sha256).hexdigest()[:24]
    return key


def _own_people(snap: MonthSnapshot, people: set[str], street: str) -> set[str]:
    """Among ``people``: members of ``street``'s cases and the persons behind its staff posts."""
    ids = _ids(people)
    members = snap.rows("members", ["case_id", "person_id"], pl.col("person_id").is_in(ids))
    own_cases = set(snap.rows("cases", ["case_id"], pl.col("case_id").is_in(_ids(set(members["case_id"])))
                              & (pl.col("street") == street))["case_id"])
    own = {r["person_id"] for r in members.iter_rows(named=True) if r["case_id"] in own_cases}
    staff = snap.rows("staff", ["person_id"], pl.col("person_id").is_in(ids) & (pl.col("street") == street))
    return own | set(staff["person_id"])


def _focus(snap: MonthSnapshot, person_id: str | None, staff_id: str | None) -> str:
    if staff_id:
        rows = snap.rows("staff", ["person_id"], pl.col("staff_id") == staff_id.strip())
        if not rows.height:
            raise AuditInputError(f"工号 {staff_id} 不在 {snap.month} 的数据快照中 (staff id not found)")
        return str(rows["person_id"][0])
    pid = (person_id or "").strip().upper()
    if not pid:
        raise AuditInputError("请给出身份证号或工号 (person or staff id required)")
    return pid


def neighbourhood(s: Session, *, profile: Profile, month: str, person_id: str | None = None,
                  staff_id: str | None = None, expand: Sequence[str] | None = None,
                  kinds: Iterable[str] | None = None, unmask_reason: str | None = None) -> dict:
    """The JSON-able graph around ``person_id`` (or ``staff_id``'s person) in ``month``, with the nodes
    of ``expand`` (keys of earlier answers, in the order they were expanded) expanded too, and only
    the edges of ``kinds`` (default all). Masked unless ``unmask_reason`` is given (roles with ``unmask``).
    Logged as ``graph.view`` with the month, the expanded nodes and the reason."""
    target = (person_id or staff_id or "").strip() or None
    s.require("read", "graph.view", target=target)
    reason = unmask_reason.strip() if unmask_reason is not None else None
    unmasked = s.unmasked(reason is not None, "graph.view", target=target)
    if reason == "":
        raise AuditInputError("查看完整信息须填写理由 (a reason is required to unmask)")
    chosen = list(KINDS) if kinds is None else [k for k in kinds if k]
    if unknown := [k for k in chosen if k not in KINDS]:
        raise AuditInputError(f"关系类型 {', '.join(unknown)} 无效，应为 {', '.join(KINDS)} (unknown kind)")
    keys = list(expand or [])
    if len(keys) > MAX_EXPAND:
        raise AuditInputError(f"一次最多展开 {MAX_EXPAND} 个节点，请从该节点重新打开关系图 (too many expansions)")
    if not month:
        raise AuditInputError("尚无审计运行保存的数据快照，无法显示关系图 (no month with a snapshot)")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise AuditInputError(f"月份 {month!r} 无效，应为 YYYY-MM (month as YYYY-MM)")
    snap = month_snapshot(s.engine, profile, month)
    centre = f"P:{_focus(snap, person_id, staff_id)}"
    street = s.user.street if s.user.role == "street" else None
    g = _Graph(snap)
    findings = _Findings(s.engine, month, street)
    _grow(g, [centre], findings)
    if not g.edges:
        shown = centre[2:] if unmasked else mask_value(centre[2:])
        raise AuditInputError(f"{shown} 在 {month} 的数据快照中没有任何关联 (not found in the month's snapshot)")
    own = _own_people(snap, {centre[2:]}, street) if street else set()
    if street and centre[2:] not in own:
        raise s.refuse("graph.view", Refused(f"该人员不属于 {street} 的案件或工作人员，街镇经办只能查看本街镇人员 "
                                             "(not your street)"), target)
    key = _keyer(s, month)
    opened: list[str] = []
    for k in keys:
        by_key = {key(n): n for n in g.order}
        node = by_key.get(k)
        if node is None:
            raise AuditInputError("要展开的节点不在关系图中，请刷新页面 (node to expand not in the graph)")
        if street:
            own |= _own_people(snap, {n[2:] for n in g.order if n[0] == "P"} - own, street)
            if not _expandable(g, node, street, own):
                raise s.refuse("graph.view", Refused("街镇经办不能展开外街镇的人员、岗位或案件 (not your street)"),
                               target)
        opened.append(node)
        _grow(g, [node], findings)
    result = _answer(g, centre, opened, chosen, findings, key, unmasked=unmasked, street=street, own=own)
    detail: dict[str, Any] = {"month": month, "run_id": snap.run_id}
    if opened:
        detail["expand"] = opened
    if kinds is not None:
        detail["kinds"] = chosen
    if reason:
        detail["reason"] = reason
    log_access(s.engine, s.user, "graph.view", target=target, detail=detail, unmasked=unmasked)
    return result


def _expandable(g: _Graph, node: str, street: str | None, own: set[str]) -> bool:
    """A street officer does not open what lies in another street: its people, posts or cases."""
    if street is None:
        return True
    if node[0] == "P":
        return node[2:] in own
    if node[0] in "SC":
        return g.facts[node].get("street") in (None, street)
    return True


def _answer(g: _Graph, centre: str, opened: list[str], kinds: list[str], findings: _Findings,
            key: Callable[[str], str], *, unmasked: bool, street: str | None, own: set[str]) -> dict:
    edges = {e: labels for e, labels in g.edges.items() if e[2] in kinds}
    hot = findings(g.order)
    reach = _reachable(centre, edges)
    fixed = {centre, *opened}
    top = set(sorted(reach, key=lambda n: (n not in fixed, n not in hot, g.order[n]))[:MAX_NODES])
    keep = _reachable(centre, [e for e in edges if e[0] in top and e[1] in top])
    hidden = len(reach) - len(keep)
    edges = {e: v for e, v in edges.items() if e[0] in keep and e[1] in keep}
    _fill_facts(g, keep)
    if street:
        own |= _own_people(g.snap, {n[2:] for n in keep if n[0] == "P"} - own, street)
    graph = nx.Graph()
    graph.add_nodes_from(keep)
    graph.add_edges_from((u, v) for u, v, _ in edges)
    on_edge = _finding_edges(graph, findings)
    pos = _layout(graph, centre)
    catalogue = load_catalogue()
    shown_findings: set[str] = set()
    nodes = []
    for n in sorted(keep, key=lambda n: g.order[n]):
        fids = sorted(findings.of_node.get(n, set()) & set(findings.rows))
        fids = sorted({*fids, *on_edge.get(n, set())})
        outside = street is not None and not _expandable(g, n, street, own)
        shown_findings.update(fids)
        label, detail = _label(g, n, unmasked=unmasked, outside=outside)
        nodes.append({"key": key(n), "kind": NODE_KINDS[n[0]], "label": label, "detail": detail,
                      "focus": n == centre, "expanded": n in g.expanded, "expandable": not outside,
                      "more": g.more.get(n, 0), "tags": _tags(g, n),
                      "findings": fids, "rules": sorted({findings.rows[f]["rule"] for f in fids}),
                      "x": round(float(pos[n][0]), 4), "y": round(float(pos[n][1]), 4)})
    out_edges = []
    for (u, v, kind), labels in sorted(edges.items(), key=lambda e: (g.order[e[0][0]], g.order[e[0][1]], e[0][2])):
        fids = sorted(on_edge.get(frozenset((u, v)), set()))
        out_edges.append({"source": key(u), "target": key(v), "kind": kind, "label": " · ".join(sorted(labels)),
                          "findings": fids, "rules": sorted({findings.rows[f]["rule"] for f in fids})})
    listed = [{"id": f, "rule": r["rule"], "name": catalogue[r["rule"]].name if r["rule"] in catalogue else r["rule"],
               "severity": SEVERITY_LABELS.get(r["severity"], r["severity"]), "street": r["street"] or "区级",
               "title": r["title"] if unmasked else mask_text(r["title"])}
              for f, r in sorted(findings.rows.items()) if f in shown_findings]
    return {"month": g.snap.month, "run_id": g.snap.run_id, "masked": not unmasked, "focus": key(centre),
            "expanded": [key(n) for n in opened], "kinds": kinds, "kind_labels": KIND_LABELS,
            "nodes": nodes, "edges": out_edges, "findings": listed, "capped": bool(hidden), "hidden": hidden,
            "notice": (f"节点过多，只显示 {len(keep)} 个，另有 {hidden} 个未显示（可展开单个节点查看）"
                       if hidden else None)}


def _layout(graph: nx.Graph, centre: str) -> dict[str, Any]:
    """Rings by distance from the focus (each node near the node it was reached from), relaxed by a
    seeded spring layout with the focus fixed in the middle: reproducible, few crossings."""
    if len(graph) == 1:
        return {centre: (0.0, 0.0)}
    angle = {centre: 0.0}
    ring = [centre]
    pos: dict[str, Any] = {centre: (0.0, 0.0)}
    depth = 0
    while ring:
        depth += 1
        nxt = sorted({m for n in ring for m in graph[n] if m not in angle},
                     key=lambda m: min(angle[p] for p in graph[m] if p in angle))
        for i, m in enumerate(nxt):
            angle[m] = 2 * math.pi * (i + 0.5) / len(nxt) + depth * 0.3
            pos[m] = (depth * math.cos(angle[m]), depth * math.sin(angle[m]))
        ring = nxt
    return dict(nx.spring_layout(graph, pos=pos, fixed=[centre], k=1.0, iterations=100, seed=7))


def _reachable(centre: str, edges: Iterable[tuple[str, str, str]]) -> set[str]:
    adj: dict[str, set[str]] = defaultdict(set)
    for u, v, _ in edges:
        adj[u].add(v)
        adj[v].add(u)
    seen, todo = {centre}, deque([centre])
    while todo:
        for m in adj[todo.popleft()] - seen:
            seen.add(m)
            todo.append(m)
    return seen


def _finding_edges(graph: nx.Graph, findings: _Findings) -> dict[Any, set[str]]:
    """Findings on edges (frozenset pairs) and on the nodes between: each evidence edge is drawn along
    the shortest path of at most three links between its ends (a post to a relative via the staff
    member, a staff member to a person via a shared phone)."""
    marks: dict[Any, set[str]] = defaultdict(set)
    for fid, row in findings.rows.items():
        try:
            ev = json.loads(row["evidence"])
        except ValueError:
            continue
        for e in ev.get("edges", []) if isinstance(ev, dict) else []:
            u, v = e.get("source"), e.get("target")
            if u not in graph or v not in graph:
                continue
            try:
                path = nx.shortest_path(graph, u, v)
            except nx.NetworkXNoPath:
                continue
            if len(path) <= 4:
                for a, b in zip(path, path[1:], strict=False):
                    marks[frozenset((a, b))].add(fid)
                for mid in path[1:-1]:
                    marks[mid].add(fid)
    return marks


def _fill_facts(g: _Graph, nodes: set[str]) -> None:
    """Names of people, addresses of dwellings and facts of cases and posts not met while reading their
    links (one scan of each table, together)."""
    want = {k: {n[2:] for n in nodes if n[0] == k and not g.facts[n].keys() & {"name", "address", "program", "role"}}
            for k in "PDCS"}
    people, homes = _ids(want["P"]), _ids(want["D"])
    queries: dict[str, tuple[str, Sequence[str], pl.Expr]] = {}
    if want["P"]:  # the first source with a name wins: small tables first
        for table, col, name in NAME_SOURCES:
            queries[table] = (table, [col, name], pl.col(col).is_in(people))
    if want["D"]:
        for table in ("staff", "members"):
            queries[f"{table}:home"] = (table, ["address_key", "address"], pl.col("address_key").is_in(homes))
    if want["C"]:
        queries["cases"] = ("cases", ["case_id", "program", "street", "status"],
                            pl.col("case_id").is_in(_ids(want["C"])))
    if want["S"]:
        queries["staff:post"] = ("staff", ["staff_id", "name", "role", "street"],
                                 pl.col("staff_id").is_in(_ids(want["S"])))
    rows = g.snap.fetch(queries)
    for name, frame in rows.items():
        for r in frame.iter_rows():
            if name.endswith(":home") and r[1]:
                g.note(f"D:{r[0]}", address=r[1])
            elif name in dict.fromkeys(t for t, _, _ in NAME_SOURCES) and r[1]:
                g.note(f"P:{r[0]}", name=r[1])
    for c in rows.get("cases", pl.DataFrame()).iter_rows(named=True):
        _note_case(g, c)
    for p in rows.get("staff:post", pl.DataFrame()).iter_rows(named=True):
        _note_post(g, p)


NAME_SOURCES = (("staff", "person_id", "name"), ("custody_filings", "custodian_id", "custodian_name"),
                ("members", "person_id", "name"), ("accounts", "holder_id", "holder_name"),
                ("dishonesty", "person_id", "name"))


def _tags(g: _Graph, n: str) -> list[str]:
    f = g.facts.get(n, {})
    return [t for t in ("staff", "custodian") if f.get(t)]


def _label(g: _Graph, n: str, *, unmasked: bool, outside: bool) -> tuple[str, dict[str, str]]:
    """A node's label and its details (personal values masked unless ``unmasked``)."""
    kind, raw, f = n[0], n[2:], g.facts.get(n, {})
    shown = raw if unmasked else mask_value(raw)
    if kind == "P":
        if outside:
            return f"{ELSEWHERE} {mask_value(raw)}", {"身份证号": mask_value(raw)}
        roles = "、".join(t for t, on in (("工作人员", f.get("staff")), ("代管人", f.get("custodian"))) if on)
        detail = {"姓名": f.get("name") or "未知姓名", "身份证号": shown} | ({"身份": roles} if roles else {})
        return f"{f.get('name') or '未知姓名'} ({raw[:6]}…{raw[-4:]})", detail
    if kind == "C":
        detail = {"案件编号": raw, "救助类型": f.get("program", ""), "街镇": f.get("street", ""),
                  "状态": f.get("status", "")}
        return f"案件 {raw} ({f.get('program', '')} {f.get('street', '')})", detail
    if kind == "S":
        name = "" if outside else f.get("name") or ""
        detail = {"工号": raw, "姓名": name, "岗位": f.get("role", ""), "街镇": f.get("street", "")}
        return f"工作人员 {name} ({f.get('street', '')} {f.get('role', '')} {raw})".replace("  ", " "), detail
    if kind == "T":
        return f"电话 {shown}", {"电话": shown}
    if kind == "D":
        address = f.get("address") or raw
        return f"住址 {address}", {"住址": address}
    return f"账户 {shown}", {"银行账号": shown}
