"""K02 plants: the street's case worker handled her husband's case (filed, must still withdraw);
near-misses: a filed father handled by someone else, the handler's cousin."""

from __future__ import annotations

from auditor.demo.columnar import ColumnarPlanting, relation_rows
from auditor.demo.district import District
from auditor.demo.plant_eligibility import paid_case
from auditor.demo.plant_relations import STREET, kin_filing, relate
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    handler = next(s for s in d.tables["staff"] if s["street"] == STREET and s["role"] == "case_worker")
    c = paid_case(d, STREET)
    relate(d, handler["person_id"], c["payee_id"], "spouse")
    kin_filing(d, handler, c["payee_id"], "spouse")
    d.expect("K02", [handler["staff_id"], c["case_id"]], "经办人经办其配偶的低保案件未回避")
    other = [s for s in d.tables["staff"] if s["street"] == STREET and s["role"] == "case_worker"][1]
    c = paid_case(d, STREET, payee_age=80)
    relate(d, other["person_id"], c["payee_id"], "parent")
    kin_filing(d, other, c["payee_id"], "parent")
    d.near_miss("K02", [other["staff_id"], c["case_id"]], "亲属案件由他人经办审批")
    c = paid_case(d, STREET)
    relate(d, handler["person_id"], c["payee_id"], "cousin")
    d.near_miss("K02", [handler["staff_id"], c["case_id"]], "经办人的表亲不属近亲属")


def bench(b: ColumnarPlanting) -> None:
    """The case's approver is the spouse of its second member."""
    approvers = b.members_of().join(b.staff.select(approved_by="staff_id", staff_pid="person_id"), on="approved_by")
    b.add("relations", relation_rows(approvers, "spouse"))


register_plant("K02", demo=demo, bench=bench)
