from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.core.periods import covers
from auditor.engine.context import AuditContext
from auditor.engine.frames import paid_members_of, table_rows
from auditor.engine.registry import Rule, register
from checks.eligibility.common import EVIDENCE_ROWS, member_cases, paid_for_month


@register
class E03(Rule):
    """财产超标线索 — a member of a means-tested case holds assets during M.

    Shared registrations (车辆、市场主体、不动产) are clues that a household's
    assets exceed the means test: a vehicle registered during M whose type is
    not in ``exempt_vehicle_types``; a business role (legal_rep/shareholder)
    covering M; more than ``max_properties`` properties registered during M.
    Money at risk if confirmed: what the person's means-tested cases were paid
    for M.

    Fires: a car registered 2025-03-01, not deregistered; or 2 properties.
    Does not fire: a 残疾人机动轮椅车; a single property; a car deregistered 2026-09-30.
    """

    code = "E03"
    name = "财产超标线索"
    severity = "medium"
    subject = ("person_id",)
    stable_facts = ("person_id", "case_ids", "vehicles", "businesses", "properties")
    groups = frozenset({"quarterly"})
    needs = {"vehicles": ("vehicle_type",), "businesses": (), "real_estate": ()}
    params = ("means_tested_programs", "exempt_vehicle_types", "max_properties")

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        first, last = ctx.first_day, ctx.last_day
        exempt = pl.col("vehicle_type").fill_null("").is_in(list(ctx.profile.exempt_vehicle_types))
        held = {
            "vehicles": table_rows(ctx, "vehicles", covers("registered_on", "deregistered_on", first, last) & ~exempt),
            "businesses": table_rows(ctx, "businesses", covers("start_date", "end_date", first, last)),
            "real_estate": table_rows(ctx, "real_estate", covers("registered_on", "deregistered_on", first, last)),
        }
        # a person's properties are counted first: only those above the limit are candidates through them,
        # and their evidence is built for those alone (at city about half the people hold a property)
        owned = (held["real_estate"].group_by("person_id").agg(n_properties=pl.col("property_id").n_unique())
                 .filter(pl.col("n_properties") > ctx.profile.max_properties))
        candidates = pl.concat([held["vehicles"].select("person_id"), held["businesses"].select("person_id"),
                                owned.select("person_id")])
        members = paid_members_of(ctx, candidates).filter(
            pl.col("program").is_in(list(ctx.profile.means_tested_programs)))
        people = members.select("person_id").unique()
        vehicles = (held["vehicles"].join(people, on="person_id", how="semi")
                    .group_by("person_id").agg(vehicles=pl.struct("plate", "vehicle_type", "registered_on")
                                               .sort_by("registered_on").head(EVIDENCE_ROWS)))
        roles = pl.struct("business_id", "business_name", "role", "start_date").sort_by("start_date")
        businesses = (held["businesses"].join(people, on="person_id", how="semi")
                      .group_by("person_id").agg(businesses=roles.head(EVIDENCE_ROWS)))
        owners = owned.join(people, on="person_id", how="semi")
        estate = (held["real_estate"].join(owners, on="person_id", how="semi")
                  .group_by("person_id").agg(properties=pl.struct("property_id", "area_sqm", "registered_on")
                                             .sort_by("property_id").head(EVIDENCE_ROWS))
                  .join(owners, on="person_id"))
        hits = (pl.concat([vehicles.select("person_id"), businesses.select("person_id"), estate.select("person_id")])
                .unique())
        out = (member_cases(members.join(hits, on="person_id", how="semi"))
               .join(paid_for_month(members), on="person_id", how="left")
               .join(vehicles, on="person_id", how="left").join(businesses, on="person_id", how="left")
               .join(estate, on="person_id", how="left"))
        kinds = pl.concat_str(
            pl.when(pl.col("vehicles").is_not_null()).then(pl.format("车辆{}辆；", pl.col("vehicles").list.len())),
            pl.when(pl.col("businesses").is_not_null())
            .then(pl.format("市场主体{}个；", pl.col("businesses").list.len())),
            pl.when(pl.col("properties").is_not_null()).then(pl.format("不动产{}处；", pl.col("n_properties"))),
            ignore_nulls=True)
        return out.select(
            "person_id", "street", "program", "case_id", "amount_fen",
            title=pl.format("{}（{}）{} 名下有：{}请核查家庭财产是否超标（当月发放{}元）", pl.col("name"),
                            pl.col("person_id"), pl.lit(ctx.month), kinds, yuan(pl.col("amount_fen"))),
            evidence=pl.struct("person_id", "name", "case_ids", "programs", "vehicles", "businesses",
                               "n_properties", "properties", yuan(pl.col("amount_fen")).alias("paid_in_month"))
            .struct.json_encode(),
        )
