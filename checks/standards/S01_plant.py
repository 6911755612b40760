"""S01 plants: a 低保 case instructed (and paid) 200.00 above its approved amount for M; near-misses:
an instruction equal to the approved amount, and a small-amount instruction on top of it."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    c = d.pick_case("天山路街道", size=2)
    d.pay(c, d.month, amount=c["monthly_amount"] + 20000)
    d.expect("S01", [c["case_id"]], "发放指令与支付同时多出200元，对账一致但超过审批金额")
    c = d.pick_case("天山路街道")
    d.pay(c, d.month)
    d.near_miss("S01", [c["case_id"]], "发放指令恰等于审批金额")
    c = d.pick_case("天山路街道")
    d.pay(c, d.month)
    d.pay(c, d.month, amount=30000, small_amount=True)
    d.near_miss("S01", [c["case_id"]], "另有一笔小金额先行救助，不计入月救助金额")


def bench(b: ColumnarPlanting) -> None:
    """Instruction and payment of M both 200.00 above the approved amount (reconciles, exceeds approval)."""
    b.edit("pay", b.of() & b.in_m, fen=pl.col("fen") + 20000)


register_plant("S01", demo=demo, bench=bench)
