"""E09 plants: a 特困 minor turned 18 the day before M; near-miss: turns 18 on the first day of M."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from auditor.core.periods import month_add
from auditor.demo.columnar import ColumnarPlanting
from auditor.demo.district import STANDARDS, District
from auditor.demo.plant_eligibility import first_of, replace_payee
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m, first = d.month, first_of(d.month)
    for born, expect in ((first - timedelta(days=1), True), (first, False)):
        c = d.new_case("华阳路街道", "tekun", pay=False, basis="minor")
        pid = replace_payee(d, c, date(born.year - 18, born.month, born.day))
        for k in range(d.history, -1, -1):
            d.pay(c, month_add(m, -k))
        if expect:
            d.expect("E09", [c["case_id"]], f"领款人{pid}已于审计月前年满18周岁")
        else:
            d.near_miss("E09", [c["case_id"]], "审计月第一天年满18周岁")


def bench(b: ColumnarPlanting) -> None:
    """Registered as 特困 on the basis of being a minor, but the payee is an adult (approved at the 特困
    standard, so S03 stays silent)."""
    b.edit("pay", b.of(), program=pl.lit("tekun"))
    b.edit("cases", b.of(), program=pl.lit("tekun"), minor=pl.lit(True),
           fen=pl.max_horizontal("fen", pl.col("size") * STANDARDS["tekun"]))


register_plant("E09", demo=demo, bench=bench)
