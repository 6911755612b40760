"""K01 plants: a cadre's mother assisted in the cadre's street, not filed; near-misses: a filed
sister, a cousin, a brother of staff working in another street."""

from __future__ import annotations

from auditor.demo.columnar import ColumnarPlanting, relation_rows
from auditor.demo.district import District
from auditor.demo.plant_eligibility import paid_case
from auditor.demo.plant_relations import STREET, kin_filing, relate
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    cadre = d.new_staff(STREET, "cadre")
    c = paid_case(d, STREET, payee_age=78)
    relate(d, cadre["person_id"], c["payee_id"], "parent")
    d.expect("K01", [cadre["staff_id"], c["payee_id"]], "村居干部之母在本街道受助，未备案")
    cadre = d.new_staff(STREET, "cadre")
    c = paid_case(d, STREET)
    relate(d, cadre["person_id"], c["payee_id"], "sibling")
    kin_filing(d, cadre, c["payee_id"], "sibling")
    d.near_miss("K01", [cadre["staff_id"], c["payee_id"]], "已备案的近亲属")
    c = paid_case(d, STREET)
    relate(d, c["payee_id"], cadre["person_id"], "cousin", "申报")
    d.near_miss("K01", [cadre["staff_id"], c["payee_id"]], "堂表兄弟姐妹不属近亲属")
    elsewhere = d.new_staff("新华路街道", "advisor")
    c = paid_case(d, STREET)
    relate(d, elsewhere["person_id"], c["payee_id"], "sibling")
    d.near_miss("K01", [elsewhere["staff_id"], c["payee_id"]], "亲属在其他街道工作")


def bench(b: ColumnarPlanting) -> None:
    """An unfiled sibling of a cadre of the case's street."""
    cadres = b.members_of().join(b.street_staff("cadre"), on="street", maintain_order="left")
    b.add("relations", relation_rows(cadres, "sibling"))


register_plant("K01", demo=demo, bench=bench)
