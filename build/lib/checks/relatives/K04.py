from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register
from checks.relatives.common import by_subject, evidence
from checks.relatives.links import k_links


@register
class K04(Rule):
    """关联集中 — one staff member is linked to many assisted cases.

    A staff member who is the anchor of K01/K02/K03 links (unfiled relatives,
    relatives' cases handled, shared phones or dwellings) to
    ``cluster_min_cases`` (default 3) or more distinct cases in M is a
    cluster worth a visit even if each link alone could be explained.

    Fires: S0021 with an unfiled sister in one case, a shared dwelling with a
    member of a second and a shared phone with a member of a third.
    Does not fire: two linked cases (below the threshold of 3).
    """

    code = "K04"
    name = "关联集中"
    severity = "high"
    subject = ("staff_id",)
    stable_facts = ("staff_id", "cases")
    groups = frozenset({"drawn", "graph"})
    needs = {"staff": (), "relations": (), "kin_filings": (), "members": (),
             "cases": ("approved_by", "handled_by")}
    params = ("close_relations", "relative_scope", "cluster_min_cases")

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        found = (by_subject(ctx.shared(k_links), ["staff_id"])
                 .filter(pl.col("cases").list.len() >= ctx.profile.cluster_min_cases))
        return found.select(
            "staff_id", "street",
            title=pl.format("工作人员{}（{}）关联 {} 个在保案件（近亲属、经办未回避、共用电话或住址），请重点核查",
                            pl.col("s_name").fill_null(""), pl.col("staff_id"), pl.col("cases").list.len()),
            evidence=evidence("staff_id", pl.col("cases").list.len().alias("n_cases")),
        )
