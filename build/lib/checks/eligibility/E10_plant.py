"""E10 plants: phase-out started 13 months before M; near-miss: exactly 12 months."""

from __future__ import annotations

import polars as pl

from auditor.core.periods import month_add
from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_eligibility import paid_case
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    c = paid_case(d, "江苏路街道", phase_out_start=month_add(d.month, -13))
    d.expect("E10", [c["case_id"]], "渐退期超过12个月")
    c = paid_case(d, "江苏路街道", phase_out_start=month_add(d.month, -12))
    d.near_miss("E10", [c["case_id"]], "渐退期恰满12个月")


def bench(b: ColumnarPlanting) -> None:
    b.edit("cases", b.of(), phase_out=pl.lit(b.mi - 14))


register_plant("E10", demo=demo, bench=bench)
