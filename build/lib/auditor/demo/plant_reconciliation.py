"""Row-by-row helpers of the R plants (``checks/reconciliation/R0x_plant.py``): the month's
allocations from the final ledger (with the overrides R07/R08 plant) and the bad rows of every drop."""

from __future__ import annotations

from datetime import date

from auditor.demo.district import District


def allocate(d: District) -> None:
    """Allocation rows for M from the final ledger: 1% slack unless overridden."""
    m = d.month
    paid: dict[tuple[str, str], int] = {}
    for row in d.tables["ledger"]:
        if row["month"] == m and row["status"] == "paid":
            key = (row["street"], row["program"])
            paid[key] = paid.get(key, 0) + row["amount"]
    for key, fen in sorted(paid.items()):
        how = d.allocation_overrides.get(key, "slack_1pct")
        if how == "idle_exactly_5pct":
            # idle == 5% needs paid == 0.95 * allocation: top the paid side up to a multiple of 19
            fen = _make_divisible(d, key, fen, 19)
            amounts = [fen * 20 // 19 - 100000, 100000]
        else:
            amounts = {
                "slack_1pct": [fen + fen // 100],
                "idle_20pct": [fen + fen // 4],
                "short_1_fen": [fen - 1],
                "exact": [fen],
                "none": [],
            }[how]
        for amount in amounts:
            d.tables["allocations"].append({"street": key[0], "program": key[1], "month": m,
                                            "amount": amount, "allocated_on": date(int(m[:4]), int(m[5:7]), 1)})


def _make_divisible(d: District, key: tuple[str, str], fen: int, k: int) -> int:
    """Raise one clean key's instruction and paid row of M so the paid total divides by ``k``."""
    extra = (k - fen % k) % k
    if extra:
        row = next(r for r in d.tables["ledger"] if r["month"] == d.month and r["status"] == "paid"
                   and (r["street"], r["program"]) == key)
        instruction = next(p for p in d.tables["payments"] if p["month"] == d.month
                           and (p["payee_id"], p["program"]) == (row["payee_id"], row["program"]))
        row["amount"] += extra
        instruction["amount"] += extra
    return fen + extra


def plant_bad_rows(d: District) -> None:
    """Rows a real export gets wrong; each must be quarantined, none may fire a rule."""
    d.junk.setdefault("ledger", []).append(
        {"txn_id": "TBAD0001", "payee_id": "310105198001010010", "program": "dibao", "month": d.month,
         "amount": "1200.00", "bank_account": "6222021000000000001", "paid_on": "2026-13-45",
         "street": "华阳路街道", "status": "paid"})
    d.junk.setdefault("payments", []).append(
        {"payment_id": "PBAD0001", "case_id": "CN-BAD", "payee_id": "310105198001010019", "program": "dibao",
         "month": d.month, "amount": "12,34.5x", "bank_account": "6222021000000000002", "street": "华阳路街道"})
    d.junk.setdefault("cases", []).append(
        {"case_id": "CN-BAD-1", "program": "养老金", "payee_id": "310105198001010019", "street": "华阳路街道",
         "status": "active", "start_month": "2026-01", "monthly_amount": "1000"})


def day(d: District, n: int) -> date:
    """Day ``n`` of the audit month."""
    return date(int(d.month[:4]), int(d.month[5:7]), n)
