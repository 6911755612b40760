"""Money at stake (rules.md "Money at stake"): every finding about money carries its amount, the others none."""

from __future__ import annotations

import polars as pl

from auditor.engine.runner import load_catalogue

NO_AMOUNT = {"E07", "E12", "K01", "K02", "K03", "K04", "D03"}


def test_every_money_finding_in_the_demo_carries_its_amount(demo_run):
    _, result, _ = demo_run
    findings = result.findings
    assert set(findings["rule"]) == set(load_catalogue())
    money = findings.filter(~pl.col("rule").is_in(list(NO_AMOUNT)))
    without = money.filter(pl.col("amount_fen").is_null() | (pl.col("amount_fen") <= 0))
    assert without.height == 0, f"money findings without an amount:\n{without.select('rule', 'title')}"
    carrying = findings.filter(pl.col("rule").is_in(list(NO_AMOUNT)) & pl.col("amount_fen").is_not_null())
    assert carrying.height == 0, f"findings that should carry no amount:\n{carrying.select('rule', 'title')}"
