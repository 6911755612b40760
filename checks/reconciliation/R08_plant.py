"""R08 plants: paid over allocation by 1 fen; no allocation at all; near-miss: paid == allocation."""

from __future__ import annotations

import polars as pl

from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import District
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    d.allocation_overrides[("新泾镇", "disability")] = "short_1_fen"
    d.expect("R08", ["新泾镇", "disability"], "实付超拨付额0.01元")
    d.allocation_overrides[("虹桥街道", "disability")] = "none"
    d.expect("R08", ["虹桥街道", "disability"], "无拨付记录视为0")
    d.allocation_overrides[("华阳路街道", "disability")] = "exact"
    d.near_miss("R08", ["华阳路街道", "disability"], "实付恰好等于拨付额")
    d.near_miss("R07", ["华阳路街道", "disability"], "实付恰好等于拨付额")


def bench(b: ColumnarPlanting) -> None:
    """Up to k streets (those R07 leaves): their 低保 allocation of M cut by 10%."""
    b.regroup(b.one_per_street(1, 2))
    b.edit("allocations", b.in_m & b.key_in("street", "program"), fen=pl.col("fen") * 9 // 10)


register_plant("R08", demo=demo, bench=bench)
