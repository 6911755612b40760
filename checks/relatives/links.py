"""The K01–K03 links: staff -> close relatives -> members, handlers of relatives' cases, shared
phones and dwellings, each row with the chain that explains it (built on ``auditor.engine.relations``)."""

from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.frames import active_cases
from auditor.engine.relations import (
    CASE_ROLES,
    active_staff,
    case_label,
    chain,
    close_pairs_of,
    contacts_of,
    contacts_sharing,
    names_for,
    node,
    person_node,
    relation_label,
    staff_label,
)


def staff_close_pairs(ctx: AuditContext) -> pl.DataFrame:
    """Close-relative pairs of every staff member (person_id = the staff member's person)."""
    return close_pairs_of(ctx, ctx.table("staff")["person_id"])


def _staff_cols(frame: pl.DataFrame, prefix: str = "s_") -> pl.DataFrame:
    return frame.select(pl.col("staff_id"), *[pl.col(c).alias(prefix + c) for c in
                                              ("person_id", "name", "role", "street", "community")])


def _in_scope(ctx: AuditContext) -> pl.Expr:
    """Staff works in the case's street (relative_scope=street) or community."""
    same_street = pl.col("s_street") == pl.col("c_street")
    if ctx.profile.relative_scope == "community":
        return same_street & (pl.col("s_community") == pl.col("c_community"))
    return same_street


def _active_case_cols(ctx: AuditContext) -> pl.DataFrame:
    return ctx.shared(active_cases).select(
        "case_id", pl.col("program").alias("c_program"), pl.col("street").alias("c_street"),
        pl.col("community").alias("c_community"))


def _staff_node() -> tuple[pl.Expr, pl.Expr]:
    return node("S", pl.col("staff_id"), staff_label())


def _case_node(note: pl.Expr | None = None) -> tuple[pl.Expr, pl.Expr]:
    return node("C", pl.col("case_id"), case_label(note))


def k01_links(ctx: AuditContext) -> pl.DataFrame:
    """Unfiled close relatives of in-scope active staff who are members of active cases."""
    links = (_staff_cols(ctx.shared(active_staff))
             .join(ctx.shared(staff_close_pairs), left_on="s_person_id", right_on="person_id")
             .join(ctx.table("members", "case_id", "person_id"), left_on="relative_id",
                   right_on="person_id")
             .join(_active_case_cols(ctx), on="case_id")
             .filter(_in_scope(ctx))
             .join(ctx.table("kin_filings").select("staff_id", "relative_id"), on=["staff_id", "relative_id"],
                   how="anti"))
    links = links.join(names_for(ctx, links["relative_id"]).rename({"person_id": "relative_id", "name": "r_name"}),
                       on="relative_id", how="left")
    return links.with_columns(
        person_id=pl.col("relative_id"),
        chain=chain(_staff_node(), (relation_label(pl.col("relation")), person_node("relative_id", "r_name")),
                    ("成员", _case_node())),
    )


def k02_links(ctx: AuditContext) -> pl.DataFrame:
    """Approvers and handlers of active cases who are close relatives of one of the case's members.

    Starts from the staff's close relatives who are members somewhere (few), then
    reads the roles of only those cases.
    """
    kin = _staff_cols(ctx.table("staff")).join(ctx.shared(staff_close_pairs), left_on="s_person_id",
                                                 right_on="person_id")
    memberships = (ctx.table("members", "case_id", "person_id").rename({"person_id": "relative_id"})
                   .join(kin.select("relative_id").unique(), on="relative_id", how="semi").unique())
    kin_members = kin.join(memberships, on="relative_id")
    cases = ctx.shared(active_cases).join(kin_members.select("case_id").unique(), on="case_id", how="semi")
    roles = pl.concat([cases.select("case_id", pl.col(c).alias("staff_id"), pl.lit(label).alias("case_role"))
                       for c, label in CASE_ROLES.items()]).filter(pl.col("staff_id").is_not_null())
    links = (roles.join(kin_members, on=["case_id", "staff_id"])
             .join(_active_case_cols(ctx), on="case_id"))
    links = links.join(names_for(ctx, links["relative_id"]).rename({"person_id": "relative_id", "name": "r_name"}),
                       on="relative_id", how="left")
    return links.with_columns(
        person_id=pl.col("relative_id"),
        chain=chain(_staff_node(), (relation_label(pl.col("relation")), person_node("relative_id", "r_name")),
                    ("成员", _case_node(pl.format("{} {}", pl.col("case_role"), pl.col("staff_id"))))),
    )


def k03_links(ctx: AuditContext) -> pl.DataFrame:
    """Members of active cases sharing a phone or dwelling with in-scope staff or their close relatives."""
    staff = _staff_cols(ctx.shared(active_staff))
    close = ctx.shared(staff_close_pairs)
    anchors = pl.concat([
        staff.with_columns(a_id=pl.col("s_person_id"), relation=pl.lit(None, pl.String)),
        staff.join(close, left_on="s_person_id", right_on="person_id").rename({"relative_id": "a_id"}),
    ], how="diagonal")
    mine = contacts_of(ctx, anchors["a_id"])
    cts = contacts_sharing(ctx, mine)
    members = (ctx.table("members", "case_id", "person_id", "name").rename({"name": "m_name"})
               .join(cts.select("person_id").unique(), on="person_id", how="semi")
               .join(_active_case_cols(ctx), on="case_id")
               .join(cts, on="person_id"))
    links = (anchors.join(mine.rename({"person_id": "a_id", "shown": "a_shown"}), on="a_id")
             .join(members, on=["kind", "value"])
             .filter((pl.col("person_id") != pl.col("a_id")) & (pl.col("person_id") != pl.col("s_person_id")))
             .filter(_in_scope(ctx))
             .join(close.select(pl.col("person_id").alias("s_person_id"), pl.col("relative_id").alias("person_id")),
                   on=["s_person_id", "person_id"], how="anti"))
    links = links.join(names_for(ctx, links["a_id"]).rename({"person_id": "a_id", "name": "a_name"}),
                       on="a_id", how="left")
    shared = pl.format("{} {}", pl.when(pl.col("kind") == "phone").then(pl.lit("同电话")).otherwise(pl.lit("同住址")),
                       pl.col("shown"))
    member = person_node("person_id", "m_name")
    direct = chain(_staff_node(), (shared, member), ("成员", _case_node()))
    via = chain(_staff_node(), (relation_label(pl.col("relation")), person_node("a_id", "a_name")),
                (shared, member), ("成员", _case_node()))
    return links.with_columns(chain=pl.when(pl.col("relation").is_null()).then(direct).otherwise(via))


def k_links(ctx: AuditContext) -> pl.DataFrame:
    """All K01/K02/K03 links: staff_id, case_id, street, chain."""
    cols = ["staff_id", "case_id", "s_street", "s_name", "chain"]
    return pl.concat([ctx.shared(f).select(cols) for f in (k01_links, k02_links, k03_links)])
