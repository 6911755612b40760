"""E11 plants: two small-amount payments 300 + 300; near-misses: 200 + 300 (exactly the limit), one of 450."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    for street, amounts, fire in (("周家桥街道", (30000, 30000), True), ("华阳路街道", (20000, 30000), False),
                                  ("新华路街道", (45000,), False)):
        c = d.new_case(street, "temporary", pay=False, start_month=d.month)
        for a in amounts:
            d.pay(c, d.month, amount=a, small_amount=True)
        if fire:
            d.expect("E11", [c["payee_id"]], "小金额先行救助拆分两笔共600元")
        else:
            d.near_miss("E11", [c["payee_id"]], "小金额先行救助合计未超过500元")


def bench(b: ColumnarPlanting) -> None:
    b.edit("instructions", b.of() & b.in_m, small_amount=pl.lit(True))


register_plant("E11", demo=demo, bench=bench)
