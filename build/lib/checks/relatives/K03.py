from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register
from checks.relatives.common import by_subject, evidence
from checks.relatives.links import k03_links


@register
class K03(Rule):
    """关系保线索 — an assisted person shares a phone or dwelling with staff or their close relatives.

    A member of an active case who is not the staff member's close relative
    but shares a phone or a dwelling (addresses equal after normalisation
    with the profile's place names, down to the unit) with an in-scope staff member, or with one of that staff
    member's close relatives, is a lead of 关系保. Shared bank accounts are
    left to the C family.

    Fires: a member lives at 长宁路100弄5号301室, the cadre's registered
    address is 上海市长宁区长宁路 100 弄 5 号 301 室.
    Does not fire: 301室 vs 302室; the member is the cadre's filed mother
    (K01's business, not K03); the staff member works in another street.
    """

    code = "K03"
    name = "关系保线索"
    severity = "medium"
    subject = ("staff_id", "person_id")
    stable_facts = ("staff_id", "person_id", "shared_values")
    groups = frozenset({"drawn", "graph"})
    needs = {"staff": (), "relations": (), "members": (), "cases": ()}
    params = ("close_relations", "relative_scope")

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        kinds = {"phone": "电话", "dwelling": "住址"}
        found = by_subject(ctx.shared(k03_links), ["staff_id", "person_id"],
                           pl.col("kind").replace_strict(kinds, return_dtype=pl.String).unique().sort()
                           .alias("shared"),
                           pl.col("value").unique().sort().alias("shared_values"))
        return found.select(
            "staff_id", "person_id", "street",
            case_id=pl.col("cases").list.first(),
            title=pl.format("在保案件 {} 的成员 {} 与工作人员{}（{}）或其近亲属共用{}，请核查是否关系保",
                            pl.col("cases").list.join("、"), pl.col("person_id"), pl.col("s_name").fill_null(""),
                            pl.col("staff_id"), pl.col("shared").list.join("、")),
            evidence=evidence("staff_id", "person_id", "shared", "shared_values"),
        )
