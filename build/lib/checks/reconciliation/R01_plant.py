"""R01 plants: paid without instruction; near-miss: only a returned row, no instruction."""

from __future__ import annotations

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    c = d.pick_case("华阳路街道")
    d.pay(c, d.month, instruct=False)
    d.expect("R01", [c["payee_id"], "dibao"], "资金内控平台支付但业务系统无指令")
    c = d.pick_case("华阳路街道")
    d.pay(c, d.month, instruct=False, status="returned")
    d.near_miss("R01", [c["payee_id"], "dibao"], "仅有退回流水，无成功支付")


def bench(b: ColumnarPlanting) -> None:
    b.drop("instructions", b.of() & b.in_m)


register_plant("R01", demo=demo, bench=bench)
