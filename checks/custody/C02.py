from __future__ import annotations

import polars as pl

from auditor.engine.context import AuditContext
from auditor.engine.frames import in_parts, table_rows
from auditor.engine.registry import Rule, register
from auditor.engine.relations import (
    account_node,
    chain,
    covering_filings,
    node,
    paid_accounts,
    payee_cases,
    person_label,
)
from checks.custody.common import by_subject, evidence


@register
class C02(Rule):
    """他人账户未备案 — benefits paid into a third party's account without a custody filing.

    A paid row for M went to an account whose holder (``accounts``) is neither
    the payee nor a member of the payee's case, and no custody filing covers
    (payee, account, M): somebody else controls the money without the filing
    that 卡折代管 requires.

    Fires: 张三's 低保 paid to an account held by an unrelated 李四.
    Does not fire: the holder is the payee's spouse and a member of the case;
    a custody filing for (张三, account) covers M.
    """

    code = "C02"
    name = "他人账户未备案"
    severity = "high"
    subject = ("person_id", "bank_account")
    stable_facts = ("person_id", "bank_account", "holders")
    groups = frozenset({"drawn", "graph"})
    needs = {"accounts": (), "members": (), "custody_filings": ()}

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        per = ctx.shared(paid_accounts)
        accounts = ctx.table("accounts", "bank_account", "holder_id", "holder_name")
        others = in_parts(_not_held_by_payee, "bank_account", per, accounts).sort(
            "payee_id", "bank_account", "holder_id", "holder_name", nulls_last=True)
        cands = others.join(payee_cases(ctx, others), on="payee_id")
        members = table_rows(ctx, "members", pl.col("case_id").is_in(cands["case_id"].unique().implode()),
                             ("case_id", "person_id")).rename({"person_id": "holder_id"})
        in_case = cands.join(members, on=["case_id", "holder_id"], how="semi")
        covered = ctx.shared(covering_filings).select(pl.col("person_id").alias("payee_id"), "bank_account")
        rows = (others.join(in_case.select("payee_id", "bank_account"), on=["payee_id", "bank_account"], how="anti")
                .join(covered, on=["payee_id", "bank_account"], how="anti")
                .with_columns(person_id=pl.col("payee_id")))
        holder = chain(account_node(), ("开户人", node("P", pl.col("holder_id"),
                                                      person_label(pl.col("holder_id"), pl.col("holder_name")))))
        holders = rows.group_by("person_id", "bank_account").agg(holders=pl.col("holder_id").unique().sort())
        found = by_subject(ctx, rows, ["person_id", "bank_account"], [pl.col("chain"), holder]).join(
            holders, on=["person_id", "bank_account"])
        return found.select(
            "person_id", "bank_account", "street", "amount_fen",
            title=pl.format("领款人 {} 的救助金 {} 元支付至他人 {} 名下账户 {}，开户人非本案成员且无卡折代管备案",
                            pl.col("person_id"), pl.col("paid"), pl.col("holders").list.join("、"),
                            pl.col("bank_account")),
            evidence=evidence("person_id", "bank_account", "holders"),
        )


def _not_held_by_payee(per: pl.DataFrame, accounts: pl.DataFrame) -> pl.DataFrame:
    """Paid (payee, account) rows whose account the payee does not hold, one per holder of the account."""
    own = accounts.select("bank_account", pl.col("holder_id").alias("payee_id"))
    return per.join(own, on=["payee_id", "bank_account"], how="anti").join(accounts, on="bank_account")
