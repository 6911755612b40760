"""R06 plants: paid after day 10 in one street/program; near-miss: paid exactly on day 10."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting, day_of
from auditor.demo.district import District
from auditor.demo.plant_reconciliation import day
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m = d.month
    for _ in range(3):
        c = d.new_case("仙霞新村街道", "dibao_edge", pay=False, start_month=m)
        d.pay(c, m, paid_on=day(d, d.rng.randint(11, 20)))
    d.expect("R06", ["仙霞新村街道", "dibao_edge"], "3笔在10日之后支付")
    c = d.new_case("虹桥街道", "dibao_edge", pay=False, start_month=m)
    d.pay(c, m, paid_on=day(d, 10))
    d.near_miss("R06", ["虹桥街道", "dibao_edge"], "恰好在10日支付")


def bench(b: ColumnarPlanting) -> None:
    b.edit("ledger", b.of() & b.in_m, paid_on=pl.lit(day_of(b.mi, 15)))


register_plant("R06", demo=demo, bench=bench)
