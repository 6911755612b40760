from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register
from checks.relatives.common import by_subject, evidence
from checks.relatives.links import k02_links


@register
class K02(Rule):
    """经办审批未回避 — a staff member approved or handled a close relative's case.

    Whoever handles or approves a case must withdraw (回避) when a member is
    their close relative, whether or not the relative is filed: filing does
    not replace withdrawal.

    Fires: S0003 is handled_by of CN2026-00100 whose member is S0003's spouse
    (filed or not).
    Does not fire: the spouse's case is handled and approved by other staff;
    the member is the handler's cousin.
    """

    code = "K02"
    name = "经办审批未回避"
    severity = "high"
    subject = ("staff_id", "case_id")
    stable_facts = ("staff_id", "case_id", "roles", "relatives")
    groups = frozenset({"drawn", "graph"})
    needs = {"staff": (), "relations": (), "members": (), "cases": ("approved_by", "handled_by")}
    params = ("close_relations",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        found = by_subject(ctx.shared(k02_links), ["staff_id", "case_id"],
                           pl.col("case_role").unique().sort().alias("roles"),
                           pl.col("person_id").unique().sort().alias("relatives"), street="c_street")
        return found.select(
            "staff_id", "case_id", "street",
            person_id=pl.col("relatives").list.first(),
            title=pl.format("工作人员{}（{}）作为{}经手案件 {}，该案成员 {} 是其近亲属，未回避",
                            pl.col("s_name").fill_null(""), pl.col("staff_id"), pl.col("roles").list.join("、"),
                            pl.col("case_id"), pl.col("relatives").list.join("、")),
            evidence=evidence("staff_id", "case_id", "roles", "relatives"),
        )
