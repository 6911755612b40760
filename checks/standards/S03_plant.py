"""S03 plants: a one-member 特困 case approved 1.00 below the 特困 standard; near-miss: exactly the standard,
with a higher standard not yet in force (from six months after M: not the month after, so months built
on this drop keep their facts)."""

from __future__ import annotations

import polars as pl

from auditor.core.periods import month_add
from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import STANDARDS, District
from auditor.demo.plants import register_plant

LATER = 6  # months after M from which the demo's next standard applies


def demo(d: District) -> None:
    std = STANDARDS["tekun"]
    d.tables["standards"].append({"program": "tekun", "from_month": month_add(d.month, LATER), "amount": std + 10000})
    c = d.new_case("新泾镇", "tekun", amount=std - 100)
    d.expect("S03", [c["case_id"]], "特困供养金额低于标准1元")
    c = d.new_case("新泾镇", "tekun", amount=std)
    d.near_miss("S03", [c["case_id"]], "恰为特困标准；半年后起的较高标准尚未生效")


def bench(b: ColumnarPlanting) -> None:
    """特困 cases approved 1.00 below the 特困 standard times the household size."""
    b.edit("pay", b.of(), program=pl.lit("tekun"))
    b.edit("cases", b.of(), program=pl.lit("tekun"), fen=pl.col("size") * STANDARDS["tekun"] - 100)


register_plant("S03", demo=demo, bench=bench)
