"""E07 plants: a quarterly review overdue; near-miss: an annual review due exactly at month end."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from auditor.core.periods import month_add
from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_eligibility import first_of, paid_case
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m = d.month
    c = paid_case(d, "北新泾街道", review_cycle="quarterly",
                  last_reviewed_on=first_of(month_add(m, -3)) + timedelta(days=14))
    d.expect("E07", [c["case_id"]], "季度核查逾期")
    c = paid_case(d, "北新泾街道", review_cycle="annual",
                  last_reviewed_on=first_of(month_add(m, -11)) - timedelta(days=1))
    d.near_miss("E07", [c["case_id"]], "核查到期日恰为月末")


def bench(b: ColumnarPlanting) -> None:
    b.edit("cases", b.of(), reviewed=pl.lit(b.first - 400))


register_plant("E07", demo=demo, bench=bench)
