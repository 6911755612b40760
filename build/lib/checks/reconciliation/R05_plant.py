"""R05 plants: one instruction, two paid rows (R03 stays silent on that key); near-miss: a
back-payment with two instructions and two paid rows."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plant_reconciliation import day
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    c = d.pick_case("天山路街道")
    d.pay(c, d.month)
    d.pay(c, d.month, instruct=False, paid_on=day(d, 9))
    d.expect("R05", [c["payee_id"], "dibao"], "同一指令重复支付两次")
    d.near_miss("R03", [c["payee_id"], "dibao"], "重复支付由 R05 报告，R03 不重复报告")
    c = d.pick_case("天山路街道")
    d.pay(c, d.month)
    d.pay(c, d.month)
    d.near_miss("R05", [c["payee_id"], "dibao"], "补发：两条指令两笔支付")


def bench(b: ColumnarPlanting) -> None:
    b.duplicate("ledger", b.of() & b.in_m, n=pl.col("n") + 10**9, paid_on=pl.col("paid_on") + 1)


register_plant("R05", demo=demo, bench=bench)
