"""Relationship model of the K and C families and the graph page: persons, staff posts, cases,
accounts, dwellings. The K01–K03 links built on it live in ``checks/relatives/links.py``.

The population is never built into one graph. Candidate links are columnar
polars joins (staff -> close relatives -> members; shared phone or dwelling;
accounts -> payees) whose cost grows with the links, not with people squared.
Every link row carries a *chain*: the readable path that explains it
(``工作人员 王某 (天山路街道 村居干部 S0012) —配偶→ 李某 (310105…1234) —成员→
案件 CN2026-00312 (低保 天山路街道)``) plus its nodes and edges, which a
finding's evidence keeps so that ``auditor.graph_view`` can draw the small
subgraph of one finding with networkx.

Close relatives are the ``close_relations`` of the profile, read in both
directions: a ``relations`` row "B is A's parent" also says "A is B's child",
and the pair is close when either reading is in the set.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from auditor.core.masking import short_id
from auditor.core.money import fen_to_yuan, yuan
from auditor.core.vocab import PROGRAM_LABELS, RELATION_LABELS, STAFF_ROLE_LABELS
from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_rows, paid_rows_for, per_key, program_label, table_rows
from auditor.ingest.schema import TABLES

INVERSE = {"spouse": "spouse", "parent": "child", "child": "parent", "sibling": "sibling",
           "grandparent": "grandchild", "grandchild": "grandparent", "parent_in_law": "child_in_law",
           "child_in_law": "parent_in_law", "sibling_in_law": "sibling_in_law", "cousin": "cousin",
           "other": "other"}
CASE_ROLES = {"approved_by": "审批人", "handled_by": "经办人"}

# ---------------------------------------------------------------- base frames


def kin_pairs_of(ctx: AuditContext, ids: pl.Series) -> pl.DataFrame:
    """``relations`` rows in both directions whose person_id is in ``ids``: relative_id is
    person_id's ``relation``. Only the rows touching ``ids`` are read, never the population's."""
    wanted = ids.drop_nulls().unique().implode()
    r = table_rows(ctx, "relations", pl.col("person_id").is_in(wanted) | pl.col("relative_id").is_in(wanted),
                   ("person_id", "relative_id", "relation"))
    back = r.select(pl.col("relative_id").alias("person_id"), pl.col("person_id").alias("relative_id"),
                    pl.col("relation").replace_strict(INVERSE, return_dtype=pl.String))
    return (pl.concat([r, back])
            .filter(pl.col("person_id").is_in(wanted) & (pl.col("person_id") != pl.col("relative_id")))
            .unique(maintain_order=True))


def close_pairs_of(ctx: AuditContext, ids: pl.Series) -> pl.DataFrame:
    """Close-relative pairs of ``ids`` (person_id in ``ids``), one row per pair with the
    relation that makes it close."""
    close = set(ctx.profile.close_relations)
    either = sorted(close | {INVERSE[c] for c in close})
    return (kin_pairs_of(ctx, ids).filter(pl.col("relation").is_in(either))
            .sort("person_id", "relative_id", "relation")
            .unique(["person_id", "relative_id"], keep="first", maintain_order=True))


def active_staff(ctx: AuditContext) -> pl.DataFrame:
    """Staff whose post covers any day of M."""
    return ctx.table("staff").filter(
        (pl.col("active_from").is_null() | (pl.col("active_from") <= ctx.last_day))
        & (pl.col("active_to").is_null() | (pl.col("active_to") >= ctx.first_day)))


NAME_SOURCES = (("members", "person_id", "name"), ("staff", "person_id", "name"),
                ("accounts", "holder_id", "holder_name"), ("dishonesty", "person_id", "name"),
                ("custody_filings", "custodian_id", "custodian_name"))


def names_for(ctx: AuditContext, ids: pl.Series) -> pl.DataFrame:
    """person_id -> a known name (members, staff, account holders, dishonesty, custodians), for
    ``ids`` only: the few people a finding's path shows."""
    wanted = ids.drop_nulls().unique().implode()
    parts = [table_rows(ctx, t, pl.col(p).is_in(wanted), (p, n))
             .select(pl.col(p).alias("person_id"), pl.col(n).cast(pl.String).alias("name"))
             for t, p, n in NAME_SOURCES if ctx.has(t)]
    return (pl.concat(parts).filter(pl.col("name").is_not_null())
            .unique("person_id", keep="first", maintain_order=True))


def covering_filings(ctx: AuditContext) -> pl.DataFrame:
    """Custody filings whose period includes any day of M (rules.md "covers")."""
    return ctx.table("custody_filings").filter(
        (pl.col("start_date") <= ctx.last_day)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= ctx.first_day)))


# ---------------------------------------------------------------- labels and chains


def person_label(pid: pl.Expr, name: pl.Expr) -> pl.Expr:
    return pl.format("{} ({})", name.fill_null("未知姓名"), short_id(pid))


def staff_label(p: str = "s_") -> pl.Expr:
    role = pl.col(p + "role").replace_strict(STAFF_ROLE_LABELS, default=pl.col(p + "role"), return_dtype=pl.String)
    return pl.format("工作人员 {} ({} {} {})", pl.col(p + "name").fill_null(""), pl.col(p + "street"),
                     role, pl.col("staff_id"))


def case_label(note: pl.Expr | None = None) -> pl.Expr:
    note = note if note is not None else pl.format("{} {}", program_label(pl.col("c_program")), pl.col("c_street"))
    return pl.format("案件 {} ({})", pl.col("case_id"), note)


def relation_label(e: pl.Expr) -> pl.Expr:
    return e.replace_strict(RELATION_LABELS, default=e, return_dtype=pl.String)


def node(kind: str, key: pl.Expr, label: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """A chain node: (id ``kind:key``, label)."""
    return pl.concat_str(pl.lit(kind + ":"), key), label


def chain(first: tuple[pl.Expr, pl.Expr], *steps: tuple[pl.Expr | str, tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
    """A path as a struct of its readable text, nodes ({id, label}) and edges ({source, target, label})."""
    nodes, edges, text = [first], [], [first[1]]
    for edge, nxt in steps:
        label = pl.lit(edge) if isinstance(edge, str) else edge
        edges.append(pl.struct(source=nodes[-1][0], target=nxt[0], label=label))
        nodes.append(nxt)
        text += [pl.format("—{}→", label), nxt[1]]
    return pl.struct(
        path=pl.concat_str(text, separator=" "),
        nodes=pl.concat_list([pl.struct(id=i, label=lab) for i, lab in nodes]),
        edges=pl.concat_list(edges),
    )


def path_aggs(col: str = "chain") -> list[pl.Expr]:
    """Aggregations that turn link chains into a finding's paths, nodes and edges."""
    return [
        pl.col(col).struct.field("path").unique().sort().alias("paths"),
        pl.col(col).struct.field("nodes").explode().unique(maintain_order=True).alias("nodes"),
        pl.col(col).struct.field("edges").explode().unique(maintain_order=True).alias("edges"),
    ]


def person_node(pid: str, name: str) -> tuple[pl.Expr, pl.Expr]:
    return node("P", pl.col(pid), person_label(pl.col(pid), pl.col(name)))


def _contacts(ctx: AuditContext, keep: Callable[[str, str], pl.Expr]) -> pl.DataFrame:
    """(person_id, kind, value, shown) phone and dwelling rows of members and staff that
    ``keep(kind, column)`` (a filter on person_id or the value's column) selects; one row per
    (person_id, kind, value), the first seen. From a streamed table only those rows are read."""
    parts = []
    for t in [t for t in ("members", "staff") if ctx.has(t)]:
        for kind, value, shown in (("phone", "phone", "phone"), ("dwelling", "address_key", "address")):
            part = table_rows(ctx, t, keep(kind, value), tuple(dict.fromkeys(("person_id", value, shown))))
            parts.append(part.select("person_id", pl.lit(kind).alias("kind"), pl.col(value).alias("value"),
                                     pl.col(shown).alias("shown")))
    return (pl.concat(parts).filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
            .unique(["person_id", "kind", "value"], keep="first", maintain_order=True))


def contacts_of(ctx: AuditContext, ids: pl.Series) -> pl.DataFrame:
    """Phones and dwellings of the people ``ids``."""
    wanted = ids.drop_nulls().unique().implode()
    return _contacts(ctx, lambda kind, column: pl.col("person_id").is_in(wanted))


def contacts_sharing(ctx: AuditContext, cts: pl.DataFrame) -> pl.DataFrame:
    """Every phone or dwelling row (anyone's) whose value is one of the contacts ``cts``."""
    values = {k: cts.filter(pl.col("kind") == k)["value"].unique().implode() for k in ("phone", "dwelling")}
    return _contacts(ctx, lambda kind, column: pl.col(column).is_in(values[kind]))


# ---------------------------------------------------------------- C base


def paid_accounts(ctx: AuditContext) -> pl.DataFrame:
    """One row per (payee_id, bank_account) paid for M: fen and street (cases and txns are added
    for the rows that fire, by ``with_payee_chain``)."""
    return per_key(ctx.shared(paid_rows), ["payee_id", "bank_account"],
                   one=dict(fen=pl.col("amount").fill_null(0), street=pl.col("street")),
                   many=dict(fen=pl.col("amount").sum(), street=pl.col("street").sort().first()))


def with_payee_chain(ctx: AuditContext, rows: pl.DataFrame) -> pl.DataFrame:
    """Add to (a few) paid-account rows their case (first by id), paid txn ids and the
    ``chain`` case —领款人→ payee —收款账户→ account."""
    key = ["payee_id", "bank_account"]
    paid = paid_rows_for(ctx, rows, key).group_by(key).agg(
        case_id=pl.col("case_id").drop_nulls().sort().first(), txn_ids=pl.col("txn_id").sort())
    names = names_for(ctx, rows["payee_id"]).rename({"person_id": "payee_id", "name": "p_name"})
    rows = rows.join(paid, on=key, how="left").join(names, on="payee_id", how="left")
    case = node("C", pl.col("case_id"), pl.format("案件 {}", pl.col("case_id")))
    payee = person_node("payee_id", "p_name")
    acct = account_node()
    return rows.with_columns(chain=pl.when(pl.col("case_id").is_null())
                             .then(chain(payee, ("收款账户", acct)))
                             .otherwise(chain(case, ("领款人", payee), ("收款账户", acct))))


def account_node() -> tuple[pl.Expr, pl.Expr]:
    return node("A", pl.col("bank_account"), pl.format("账户 {}", pl.col("bank_account")))


def payee_cases(ctx: AuditContext, payees: pl.DataFrame) -> pl.DataFrame:
    """(payee_id, case_id) for ``payees``: their cases paid in M or registered with them as payee."""
    return pl.concat([
        paid_rows_for(ctx, payees, ["payee_id"]).select("payee_id", "case_id").drop_nulls(),
        ctx.table("cases", "payee_id", "case_id").join(payees.select("payee_id").unique(), on="payee_id",
                                                       how="semi"),
    ]).unique()


# ---------------------------------------------------------------- one person's neighbourhood


def neighbourhood(ctx: AuditContext, person_id: str, limit: int = 60) -> dict:
    """Nodes, edges and listed rows around one person: relatives, staff posts, cases, shared
    contacts, accounts, filings and dishonesty records (filters on small id sets only)."""
    nodes: dict[str, str] = {}  # person labels are filled in at the end, with one name lookup
    edges: list[dict] = []

    def person(pid: str) -> str:
        nodes.setdefault(f"P:{pid}", "")
        return f"P:{pid}"

    def link(a: str, b: str, label: str) -> None:
        edges.append({"source": a, "target": b, "label": label})

    person(person_id)
    lists: dict[str, list[dict]] = {}
    me = pl.Series([person_id])
    kin = (kin_pairs_of(ctx, me) if ctx.has("relations")
           else pl.DataFrame(schema={"person_id": pl.String, "relative_id": pl.String, "relation": pl.String}))
    close = set(close_pairs_of(ctx, me)["relative_id"]) if ctx.has("relations") else set()
    for r in kin.iter_rows(named=True):
        link(person(person_id), person(r["relative_id"]), RELATION_LABELS.get(r["relation"], r["relation"]))
    names = dict(names_for(ctx, kin["relative_id"]).iter_rows())
    lists["亲属"] = [{"身份证号": r["relative_id"], "姓名": names.get(r["relative_id"]),
                    "关系": RELATION_LABELS.get(r["relation"], r["relation"]),
                    "近亲属": "是" if r["relative_id"] in close else "否"} for r in kin.iter_rows(named=True)]
    persons = {person_id, *kin["relative_id"]}

    posts = ctx.table("staff").filter(pl.col("person_id").is_in(list(persons))) if ctx.has("staff") else None
    staff_ids: set[str] = set()
    if posts is not None:
        for s in posts.iter_rows(named=True):
            staff_ids.add(s["staff_id"])
            sid = f"S:{s['staff_id']}"
            nodes[sid] = (f"工作人员 {s['name'] or ''} ({s['street']} {STAFF_ROLE_LABELS.get(s['role'], s['role'])} "
                          f"{s['staff_id']})")
            link(person(s["person_id"]), sid, "任职")
        lists["任职"] = _labelled(posts.select("staff_id", "person_id", "name", "role", "street", "community",
                                             "active_from", "active_to"), "staff")

    member_rows = ctx.table("members").filter(pl.col("person_id").is_in(list(persons)))
    case_ids = set(member_rows["case_id"])
    cases = ctx.table("cases").filter(pl.col("case_id").is_in(list(case_ids)))
    for c in cases.iter_rows(named=True):
        nodes[f"C:{c['case_id']}"] = f"案件 {c['case_id']} ({PROGRAM_LABELS.get(c['program'])} {c['street']})"
        for col, label in CASE_ROLES.items():
            if c.get(col) in staff_ids:
                link(f"S:{c[col]}", f"C:{c['case_id']}", label)
    for m in member_rows.iter_rows(named=True):
        link(person(m["person_id"]), f"C:{m['case_id']}", "成员")
    lists["案件"] = _labelled(cases.select("case_id", "program", "payee_id", "street", "community", "status",
                                         "start_month", "end_month", "approved_by", "handled_by"), "cases")

    mine = contacts_of(ctx, pl.Series(sorted(persons)))
    sharers = (contacts_sharing(ctx, mine)
               .join(mine.select("kind", "value", pl.col("person_id").alias("anchor")), on=["kind", "value"])
               .filter(~pl.col("person_id").is_in(list(persons))).sort("anchor", "person_id").head(limit))
    for s in sharers.iter_rows(named=True):
        shared = ("同电话 " if s["kind"] == "phone" else "同住址 ") + s["shown"]
        link(person(s["anchor"]), person(s["person_id"]), shared)
    names = dict(names_for(ctx, sharers["person_id"]).iter_rows())
    lists["共用电话或住址"] = [{"人员": s["anchor"], "共用者": s["person_id"], "共用者姓名": names.get(s["person_id"]),
                         "类型": "电话" if s["kind"] == "phone" else "住址", "内容": s["shown"]}
                        for s in sharers.iter_rows(named=True)]
    shared_persons = set(sharers["person_id"])
    for m in ctx.table("members").filter(pl.col("person_id").is_in(list(shared_persons))).iter_rows(named=True):
        nodes.setdefault(f"C:{m['case_id']}", f"案件 {m['case_id']}")
        link(person(m["person_id"]), f"C:{m['case_id']}", "成员")

    accounts: set[str] = set()
    acct_rows: list[dict] = []
    if ctx.has("accounts"):
        held = table_rows(ctx, "accounts", pl.col("holder_id").is_in(list(persons)))
        for a in held.iter_rows(named=True):
            accounts.add(a["bank_account"])
            link(f"A:{a['bank_account']}", person(a["holder_id"]), "开户人")
            acct_rows.append({"银行账号": a["bank_account"], "人员": a["holder_id"], "关系": "开户人"})
    paid = ctx.shared(paid_rows)
    received = paid.filter(pl.col("payee_id").is_in(list(persons)))
    accounts |= set(received["bank_account"])
    into = paid.filter(pl.col("bank_account").is_in(list(accounts)))
    for p in into.iter_rows(named=True):
        link(person(p["payee_id"]), f"A:{p['bank_account']}", "收款账户")
        acct_rows.append({"银行账号": p["bank_account"], "人员": p["payee_id"],
                          "关系": f"收款 {fen_to_yuan(p['amount'])} 元 ({p['txn_id']})"})
    if ctx.has("custody_filings"):
        filings = ctx.table("custody_filings").filter(
            pl.col("person_id").is_in(list(persons)) | pl.col("custodian_id").is_in(list(persons))
            | pl.col("bank_account").is_in(list(accounts)))
        for f in filings.iter_rows(named=True):
            accounts.add(f["bank_account"])
            link(person(f["person_id"]), f"A:{f['bank_account']}", "代管账户")
            link(f"A:{f['bank_account']}", person(f["custodian_id"]), f"代管人 {f['filing_id']}")
        lists["卡折代管备案"] = _labelled(filings, "custody_filings")
    for acct in accounts:
        nodes[f"A:{acct}"] = f"账户 {acct}"
    lists["账户"] = acct_rows
    if ctx.has("kin_filings"):
        lists["近亲属备案"] = _labelled(ctx.table("kin_filings").filter(
            pl.col("staff_id").is_in(list(staff_ids)) | pl.col("relative_id").is_in(list(persons))), "kin_filings")
    if ctx.has("dishonesty"):
        records = ctx.table("dishonesty").filter(pl.col("person_id").is_in(list(persons)))
        for r in records.iter_rows(named=True):
            nodes[f"F:{r['record_id']}"] = f"失信记录 {r['record_id']}"
            link(person(r["person_id"]), f"F:{r['record_id']}", "失信")
        lists["失信记录"] = _labelled(records, "dishonesty")
    pids = [k[2:] for k in nodes if k.startswith("P:")]
    names = dict(names_for(ctx, pl.Series(pids, dtype=pl.String)).iter_rows())
    for pid in pids:
        nodes[f"P:{pid}"] = f"{names.get(pid) or '未知姓名'} ({pid[:6]}…{pid[-4:]})"
    return {"nodes": [{"id": k, "label": v} for k, v in nodes.items()], "edges": edges, "lists": lists,
            "persons": persons | shared_persons, "staff": staff_ids, "cases": case_ids, "accounts": accounts}



def _labelled(frame: pl.DataFrame, table: str) -> list[dict]:
    """Rows of a contract table with its Chinese column labels (amounts in yuan)."""
    t = TABLES[table]
    cols = [c for c in t.columns if c.name in frame.columns]
    return frame.select([(yuan(pl.col(c.name)) if c.kind == "amount" else pl.col(c.name)).alias(c.label)
                         for c in cols]).to_dicts()
