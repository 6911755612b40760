"""E08 plants: terminated two months before M and still paid; suspended and paid; near-miss:
end_month = M."""

from __future__ import annotations

import polars as pl

from auditor.core.periods import month_add
from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_eligibility import paid_case
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m = d.month
    c = paid_case(d, "新泾镇", status="terminated", end_month=month_add(m, -2))
    d.expect("E08", [c["case_id"]], "终止后仍发放2个月")
    c = paid_case(d, "新泾镇", status="suspended")
    d.expect("E08", [c["case_id"]], "暂停期间仍发放")
    c = paid_case(d, "新泾镇", status="terminated", end_month=m)
    d.near_miss("E08", [c["case_id"]], "终止月份为审计月，当月仍应发放")


def bench(b: ColumnarPlanting) -> None:
    b.edit("cases", b.of(), status=pl.lit("terminated"), end_mi=pl.lit(b.mi - 2))


register_plant("E08", demo=demo, bench=bench)
