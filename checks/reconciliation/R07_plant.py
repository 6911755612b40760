"""R07 plants: allocation idle over 5%; near-miss: idle exactly 5% (two allocation rows summed)."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    d.allocation_overrides[("程家桥街道", "tekun")] = "idle_20pct"
    d.expect("R07", ["程家桥街道", "tekun"], "拨付资金20%未支付")
    d.allocation_overrides[("北新泾街道", "tekun")] = "idle_exactly_5pct"
    d.near_miss("R07", ["北新泾街道", "tekun"], "滞留恰好为拨付额的5%（两条拨付记录合计）")


def bench(b: ColumnarPlanting) -> None:
    """Up to k streets (every other one; R08 takes the rest): their 低保 allocation of M raised by 10%."""
    b.regroup(b.one_per_street(0, 2))
    b.edit("allocations", b.in_m & b.key_in("street", "program"), fen=pl.col("fen") * 11 // 10)


register_plant("R07", demo=demo, bench=bench)
