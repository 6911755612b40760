"""Plant R01–R08 problems and their near-misses into a clean district."""

from __future__ import annotations

from datetime import date

from auditor.demo.district import District


def plant(d: District) -> None:
    m = d.month
    y, mo = int(m[:4]), int(m[5:7])
    day = lambda n: date(y, mo, n)  # noqa: E731

    # R01: paid without instruction; near-miss: only a returned row, no instruction.
    c = d.pick_case("华阳路街道")
    d.pay(c, m, instruct=False)
    d.expect("R01", [c["payee_id"], "dibao"], "资金内控平台支付但业务系统无指令")
    c = d.pick_case("华阳路街道")
    d.pay(c, m, instruct=False, status="returned")
    d.near_miss("R01", [c["payee_id"], "dibao"], "仅有退回流水，无成功支付")

    # R02: instructed, returned, never re-sent; near-miss: returned then re-sent and paid.
    c = d.pick_case("江苏路街道")
    d.pay(c, m, status="returned")
    d.expect("R02", [c["payee_id"], "dibao"], "指令已下达，支付被退回且未重发")
    c = d.pick_case("江苏路街道")
    d.pay(c, m, status="returned")
    d.pay(c, m, instruct=False)
    d.near_miss("R02", [c["payee_id"], "dibao"], "退回后已重新支付成功")

    # R03: amount mismatch; near-miss: the same amount (written differently in the file).
    c = d.pick_case("新华路街道")
    d.pay(c, m, instruct=False, ledger=True, amount=c["monthly_amount"] - 18000)
    d.pay(c, m, ledger=False)
    d.expect("R03", [c["payee_id"], "dibao"], "实付比指令少180元")
    c = d.pick_case("新华路街道")
    d.pay(c, m)
    d.near_miss("R03", [c["payee_id"], "dibao"], "金额一致（千分位写法不同）")

    # R04: paid to another account; near-miss: same account with spaces and dashes.
    c = d.pick_case("周家桥街道")
    d.pay(c, m, ledger=False)
    d.pay(c, m, instruct=False, account=d.account())
    d.expect("R04", [c["payee_id"], "dibao"], "支付至非指令账户")
    c = d.pick_case("周家桥街道")
    acct = c["bank_account"]
    d.pay(c, m, ledger=False)
    d.pay(c, m, instruct=False, account=f"{acct[:4]} {acct[4:8]}-{acct[8:]}")
    d.near_miss("R04", [c["payee_id"], "dibao"], "同一账号，写法含空格和横线")

    # R05: one instruction, two paid rows (and R03 stays silent on that key);
    # near-miss: a back-payment with two instructions and two paid rows.
    c = d.pick_case("天山路街道")
    d.pay(c, m)
    d.pay(c, m, instruct=False, paid_on=day(9))
    d.expect("R05", [c["payee_id"], "dibao"], "同一指令重复支付两次")
    d.near_miss("R03", [c["payee_id"], "dibao"], "重复支付由 R05 报告，R03 不重复报告")
    c = d.pick_case("天山路街道")
    d.pay(c, m)
    d.pay(c, m)
    d.near_miss("R05", [c["payee_id"], "dibao"], "补发：两条指令两笔支付")

    # R06: paid after day 10 in one street/program; near-miss: exactly on day 10.
    for _ in range(3):
        c = d.new_case("仙霞新村街道", "dibao_edge", pay=False, start_month=m)
        d.pay(c, m, paid_on=day(d.rng.randint(11, 20)))
    d.expect("R06", ["仙霞新村街道", "dibao_edge"], "3笔在10日之后支付")
    c = d.new_case("虹桥街道", "dibao_edge", pay=False, start_month=m)
    d.pay(c, m, paid_on=day(10))
    d.near_miss("R06", ["虹桥街道", "dibao_edge"], "恰好在10日支付")

    # R07: allocation idle over 5%; near-miss: idle exactly 5% (two allocation rows summed).
    d.allocation_overrides[("程家桥街道", "tekun")] = "idle_20pct"
    d.expect("R07", ["程家桥街道", "tekun"], "拨付资金20%未支付")
    d.allocation_overrides[("北新泾街道", "tekun")] = "idle_exactly_5pct"
    d.near_miss("R07", ["北新泾街道", "tekun"], "滞留恰好为拨付额的5%（两条拨付记录合计）")

    # R08: paid over allocation by 1 fen; no allocation at all; near-miss: paid == allocation.
    d.allocation_overrides[("新泾镇", "disability")] = "short_1_fen"
    d.expect("R08", ["新泾镇", "disability"], "实付超拨付额0.01元")
    d.allocation_overrides[("虹桥街道", "disability")] = "none"
    d.expect("R08", ["虹桥街道", "disability"], "无拨付记录视为0")
    d.allocation_overrides[("华阳路街道", "disability")] = "exact"
    d.near_miss("R08", ["华阳路街道", "disability"], "实付恰好等于拨付额")
    d.near_miss("R07", ["华阳路街道", "disability"], "实付恰好等于拨付额")


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
