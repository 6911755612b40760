"""R05 plants: one instruction, two paid rows (R03 stays silent on that key); near-miss: the
month's amount in two instructions and two paid rows."""

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
    half = c["monthly_amount"] // 2
    d.pay(c, d.month, amount=half)
    d.pay(c, d.month, amount=c["monthly_amount"] - half)
    d.near_miss("R05", [c["payee_id"], "dibao"], "分两笔：两条指令两笔支付，合计等于审批金额")


def bench(b: ColumnarPlanting) -> None:
    b.duplicate("ledger", b.of() & b.in_m, n=pl.col("n") + 10**9, paid_on=pl.col("paid_on") + 1)


register_plant("R05", demo=demo, bench=bench)
