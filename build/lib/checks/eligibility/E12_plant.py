"""E12 plants: background applications decided in time, then one pending past its 20 working
days (across 中秋 and 国庆) and one decided a day late; near-misses: decided on the last day, special
(45 days) and not yet due, a deadline after M."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from auditor.core.periods import month_add
from auditor.core.workdays import nth_workday_after
from auditor.demo.columnar import ColumnarPlanting, as_date, seq_text
from auditor.demo.district import District
from auditor.demo.plant_eligibility import add_row, first_of
from auditor.demo.plants import register_plant


def demo(d: District) -> None:
    m = d.month
    first = first_of(m)
    last = first_of(month_add(m, 1)) - timedelta(days=1)
    streets = sorted({c["street"] for c in d.tables["cases"]})
    n = 0

    def app(received: date, decided: date | None, special: bool = False, street: str | None = None) -> str:
        nonlocal n
        n += 1
        aid = f"SQ{received:%Y%m}{n:05d}"
        add_row(d, "applications", application_id=aid, person_id=d.new_person_id(), program="dibao",
                street=street or streets[n % len(streets)], received_on=received, decided_on=decided,
                special=special, outcome="approved" if decided else None)
        return aid

    # background: decided within the limit, or pending with a deadline after M
    start = first - timedelta(days=120)
    for i in range(150):
        received = start + timedelta(days=i % 120)
        decided = nth_workday_after(received, 5 + i % 16)
        app(received, decided if decided <= last or i % 2 else None, special=i % 7 == 0)
    # received 09-10, pending (deadline 10-14 across 中秋 and 国庆); decided 10-15, one day late.
    received = first - timedelta(days=21)
    deadline = nth_workday_after(received, 20)
    aid = app(received, None)
    d.expect("E12", [aid], f"受理后20个工作日（{deadline}）仍未审批")
    aid = app(received, deadline + timedelta(days=1))
    d.expect("E12", [aid], "超过期限一天审批")
    aid = app(received, deadline)
    d.near_miss("E12", [aid], "恰在第20个工作日（跨国庆假期）审批")
    aid = app(received, None, special=True)
    d.near_miss("E12", [aid], "特殊情形45个工作日，尚未到期")
    received = first - timedelta(days=1)
    if nth_workday_after(received, 20) <= last:  # no long holiday early in this M
        received = last - timedelta(days=5)
    aid = app(received, None)
    d.near_miss("E12", [aid], "期限（节假日不计入）在审计月之后，尚未到期")


def bench(b: ColumnarPlanting) -> None:
    """Applications received 90 days before M, still pending, in the planted cases' streets."""
    k = b.group().height
    b.add("applications", pl.DataFrame({
        "application_id": seq_text("AP", 1, k, 6), "person_id": b.people(k), "program": ["dibao"] * k,
        "street": b.group()["street"], "received_on": b.day(-90, k), "decided_on": as_date(np.full(k, -1)),
        "special": [False] * k, "outcome": ["审核中"] * k}))


register_plant("E12", demo=demo, bench=bench)
