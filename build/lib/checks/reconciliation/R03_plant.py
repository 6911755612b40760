"""R03 plants: amount mismatch; near-miss: the same amount (written differently in the file)."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    c = d.pick_case("新华路街道")
    d.pay(c, d.month, instruct=False, ledger=True, amount=c["monthly_amount"] - 18000)
    d.pay(c, d.month, ledger=False)
    d.expect("R03", [c["payee_id"], "dibao"], "实付比指令少180元")
    c = d.pick_case("新华路街道")
    d.pay(c, d.month)
    d.near_miss("R03", [c["payee_id"], "dibao"], "金额一致（千分位写法不同）")


def bench(b: ColumnarPlanting) -> None:
    b.edit("ledger", b.of() & b.in_m, fen=pl.col("fen") - 18000)


register_plant("R03", demo=demo, bench=bench)
