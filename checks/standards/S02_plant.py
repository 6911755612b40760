"""S02 plants: a two-member 低保 case approved 1.00 above twice the standard; near-misses: exactly twice
the standard, a case with no members row (skipped and counted), and a lower standard that is not yet in
force (from six months after M: not the month after, so months built on this drop keep their facts)."""

from __future__ import annotations

import polars as pl

from auditor.core.periods import month_add
from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import STANDARDS, District
from auditor.demo.plants import register_plant

LATER = 6  # months after M from which the demo's next standard applies


def demo(d: District) -> None:
    std = STANDARDS["dibao"]
    d.tables["standards"].append({"program": "dibao", "from_month": month_add(d.month, LATER), "amount": std - 10000})
    c = d.new_case("江苏路街道", size=2, amount=2 * std + 100)
    d.expect("S02", [c["case_id"]], "两人户低保月救助金额超过标准1元")
    c = d.new_case("江苏路街道", size=2, amount=2 * std)
    d.near_miss("S02", [c["case_id"]], "恰为两人标准；半年后起的较低标准尚未生效")
    c = d.new_case("江苏路街道", size=1, amount=3 * std)
    d.tables["members"] = [m for m in d.tables["members"] if m["case_id"] != c["case_id"]]
    d.near_miss("S02", [c["case_id"]], "案件无成员记录：跳过并计入数据质量，不作除数")


def bench(b: ColumnarPlanting) -> None:
    """Approved 1.00 above the 低保 standard times the household size."""
    b.edit("cases", b.of(), fen=pl.col("size") * STANDARDS["dibao"] + 100)


register_plant("S02", demo=demo, bench=bench)
