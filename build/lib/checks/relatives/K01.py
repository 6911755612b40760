from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.registry import Rule, register
from auditor.engine.relations import relation_label
from checks.relatives.common import by_subject, evidence
from checks.relatives.links import k01_links


@register
class K01(Rule):
    """近亲属受助未备案 — a staff member's close relative is assisted and not filed.

    Staff and village/community cadres must file their close relatives who
    receive assistance (近亲属备案制度), so that their cases get extra scrutiny.
    A member of an active case who is a close relative (``close_relations``,
    both directions) of a staff member active in M and working in the case's
    street (or community, ``relative_scope``) with no kin_filings row for
    (staff_id, person_id) is a lead of 优亲厚友.

    Fires: cadre S0012 of 天山路街道, her mother is a member of an active
    天山路街道 case, no kin filing.
    Does not fire: the same with a kin filing; a cousin (not a close relative);
    the relative's case is in another street.
    """

    code = "K01"
    name = "近亲属受助未备案"
    severity = "high"
    subject = ("staff_id", "person_id")
    stable_facts = ("staff_id", "person_id", "relation")
    groups = frozenset({"drawn", "graph"})
    needs = {"staff": (), "relations": (), "kin_filings": (), "members": (), "cases": ()}
    params = ("close_relations", "relative_scope")

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        found = by_subject(ctx.shared(k01_links), ["staff_id", "person_id"],
                           pl.col("relation").first().alias("relation"),
                           pl.col("relative_id").first().alias("relative_id"))
        return found.select(
            "staff_id", "person_id", "street",
            case_id=pl.col("cases").list.first(),
            title=pl.format("工作人员{}（{}）的{} {} 是在保案件 {} 的成员，未办理近亲属备案",
                            pl.col("s_name").fill_null(""), pl.col("staff_id"), relation_label(pl.col("relation")),
                            pl.col("person_id"), pl.col("cases").list.join("、")),
            evidence=evidence("staff_id", "person_id", "relation"),
        )
