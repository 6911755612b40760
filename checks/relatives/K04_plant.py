"""K04 plants: one cadre with an unfiled sister, a shared dwelling and a shared phone (three cases);
near-miss: two linked cases only."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting, relation_rows
from auditor.demo.district import District
from auditor.demo.plant_eligibility import paid_case
from auditor.demo.plant_relations import STREET, edit_member, relate
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    cadre = d.new_staff(STREET, "cadre", address="天山路953弄1号101室")
    sister = paid_case(d, STREET)
    relate(d, cadre["person_id"], sister["payee_id"], "sibling")
    lodger = paid_case(d, STREET)
    edit_member(d, lodger, address="上海市长宁区天山路953弄1号101室")
    caller = paid_case(d, STREET)
    edit_member(d, caller, phone=cadre["phone"])
    d.expect("K01", [cadre["staff_id"], sister["payee_id"]], "村居干部之姐受助未备案")
    d.expect("K03", [cadre["staff_id"], lodger["payee_id"]], "与村居干部同住")
    d.expect("K03", [cadre["staff_id"], caller["payee_id"]], "使用村居干部电话")
    d.expect("K04", [cadre["staff_id"]], "村居干部关联三个在保案件")
    cadre = d.new_staff(STREET, "cadre", address="遵义路954弄2号202室")
    sister = paid_case(d, STREET)
    relate(d, sister["payee_id"], cadre["person_id"], "sibling")
    lodger = paid_case(d, STREET)
    edit_member(d, lodger, address="遵义路954弄2号202室")
    d.expect("K01", [cadre["staff_id"], sister["payee_id"]], "村居干部之兄受助未备案")
    d.expect("K03", [cadre["staff_id"], lodger["payee_id"]], "与村居干部同住")
    d.near_miss("K04", [cadre["staff_id"]], "只关联两个案件，未达阈值 3")


def bench(b: ColumnarPlanting) -> None:
    """Per street of about k/3 streets, its advisor with an unfiled sibling in three cases (cases no
    other plant took)."""
    streets = b.chosen["street"].unique(maintain_order=True).head(max(1, b.k // 3))
    b.regroup(b.pool.filter(pl.col("street").is_in(streets.implode())
                            & ~pl.col("case_id").is_in(b.chosen["case_id"].implode()))
              .group_by("street", maintain_order=True).head(3))
    advisors = b.members_of().join(b.street_staff("advisor"), on="street", maintain_order="left")
    b.add("relations", relation_rows(advisors, "sibling"))


register_plant("K04", demo=demo, bench=bench)
