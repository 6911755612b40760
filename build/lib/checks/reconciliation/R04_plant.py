"""R04 plants: paid to another account; near-miss: the same account with spaces and dashes."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    c = d.pick_case("周家桥街道")
    d.pay(c, d.month, ledger=False)
    d.pay(c, d.month, instruct=False, account=d.account())
    d.expect("R04", [c["payee_id"], "dibao"], "支付至非指令账户")
    c = d.pick_case("周家桥街道")
    acct = c["bank_account"]
    d.pay(c, d.month, ledger=False)
    d.pay(c, d.month, instruct=False, account=f"{acct[:4]} {acct[4:8]}-{acct[8:]}")
    d.near_miss("R04", [c["payee_id"], "dibao"], "同一账号，写法含空格和横线")


def bench(b: ColumnarPlanting) -> None:
    b.edit("ledger", b.of() & b.in_m,
           bank_account=pl.lit("6222029999") + pl.col("n").cast(pl.String).str.zfill(9))


register_plant("R04", demo=demo, bench=bench)
