"""K03 plants: a member lives in a cadre's dwelling (written differently); a member uses an
advisor's phone; near-miss: the neighbouring unit 302."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_eligibility import paid_case
from auditor.demo.plant_relations import STREET, edit_member
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    cadre = d.new_staff(STREET, "cadre", address="上海市长宁区天山路 951 弄 3 号 301 室")
    c = paid_case(d, STREET)
    edit_member(d, c, address="天山路951弄3号301室")
    d.expect("K03", [cadre["staff_id"], c["payee_id"]], "受助人与村居干部同住一处（地址写法不同）")
    advisor = d.new_staff(STREET, "advisor")
    c = paid_case(d, STREET)
    edit_member(d, c, phone=advisor["phone"])
    d.expect("K03", [advisor["staff_id"], c["payee_id"]], "受助人登记电话为救助顾问本人电话")
    cadre = d.new_staff(STREET, "cadre", address="上海市长宁区娄山关路 952 弄 7 号 301 室")
    c = paid_case(d, STREET)
    edit_member(d, c, address="娄山关路952弄7号302室")
    d.near_miss("K03", [cadre["staff_id"], c["payee_id"]], "隔壁单元 301 与 302 不是同一住址")


def bench(b: ColumnarPlanting) -> None:
    """The second member's phone is that of a cadre of the street."""
    k03 = b.members_of().join(b.street_staff("cadre"), on="street", maintain_order="left")
    b.edit("members", pl.col("person_id").is_in(k03["member"].implode()),
           phone=pl.col("person_id").replace_strict(k03["member"], k03["staff_phone"], default=None))


register_plant("K03", demo=demo, bench=bench)
