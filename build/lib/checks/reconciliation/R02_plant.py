"""R02 plants: instructed, returned, never re-sent; near-miss: returned then re-sent and paid."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    c = d.pick_case("江苏路街道")
    d.pay(c, d.month, status="returned")
    d.expect("R02", [c["payee_id"], "dibao"], "指令已下达，支付被退回且未重发")
    c = d.pick_case("江苏路街道")
    d.pay(c, d.month, status="returned")
    d.pay(c, d.month, instruct=False)
    d.near_miss("R02", [c["payee_id"], "dibao"], "退回后已重新支付成功")


def bench(b: ColumnarPlanting) -> None:
    b.edit("ledger", b.of() & b.in_m, status=pl.lit("returned"))


register_plant("R02", demo=demo, bench=bench)
