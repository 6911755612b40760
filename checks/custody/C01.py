from __future__ import annotations

import polars as pl

from auditor.core.money import yuan
from auditor.core.repeats import duplicated
from auditor.engine.context import AuditContext
from auditor.engine.frames import table_rows
from auditor.engine.registry import Rule, register
from auditor.engine.relations import close_pairs_of, covering_filings, paid_accounts
from checks.custody.common import by_subject, evidence


@register
class C01(Rule):
    """一卡多领 — one bank account collects several unrelated payees' benefits.

    An account that received paid rows for M for two or more payees who are
    neither members of one case nor close relatives of each other suggests a
    card held by someone else (卡折代管) or fictitious payees, unless every
    one of those payees has a custody filing covering that account.

    Fires: 6222…0001 received the 低保 of two unrelated payees.
    Does not fire: two cases of one household (spouses) paid into one account;
    both payees have custody filings naming the account.
    """

    code = "C01"
    name = "一卡多领"
    severity = "high"
    subject = ("bank_account",)
    stable_facts = ("bank_account", "payee_ids")
    groups = frozenset({"drawn", "graph"})
    needs = {"members": (), "relations": (), "custody_filings": ()}
    params = ("close_relations",)

    def find(self, ctx: AuditContext) -> pl.DataFrame:
        per = ctx.shared(paid_accounts)
        multi = per.filter(duplicated(per, ["bank_account"]))  # one row per (payee, account)
        pairs = (multi.select("bank_account", pl.col("payee_id").alias("a"))
                 .join(multi.select("bank_account", pl.col("payee_id").alias("b")), on="bank_account")
                 .filter(pl.col("a") < pl.col("b")))
        members = table_rows(ctx, "members", pl.col("person_id").is_in(multi["payee_id"].unique().implode()),
                             ("case_id", "person_id"))
        co_members = (pairs.join(members.rename({"person_id": "a"}), on="a")
                      .join(members.rename({"person_id": "b"}), on=["case_id", "b"], how="semi")
                      .select("bank_account", "a", "b").unique())
        close = close_pairs_of(ctx, multi["payee_id"]).select(pl.col("person_id").alias("a"),
                                                              pl.col("relative_id").alias("b"))
        unrelated = (pairs.join(co_members, on=["bank_account", "a", "b"], how="anti")
                     .join(close, on=["a", "b"], how="anti"))
        covered = multi.join(ctx.shared(covering_filings).select(pl.col("person_id").alias("payee_id"),
                                                                 "bank_account").unique(),
                             on=["payee_id", "bank_account"], how="semi")
        all_covered = (multi.group_by("bank_account").agg(n=pl.col("payee_id").n_unique())
                       .join(covered.group_by("bank_account").agg(n=pl.col("payee_id").n_unique()),
                             on=["bank_account", "n"], how="semi"))
        rows = (multi.join(unrelated.select("bank_account").unique(), on="bank_account", how="semi")
                .join(all_covered, on="bank_account", how="anti"))
        payees = rows.group_by("bank_account").agg(
            payees=pl.struct("payee_id", yuan(pl.col("fen")).alias("paid")).sort_by("payee_id"),
            payee_ids=pl.col("payee_id").unique().sort())
        found = by_subject(ctx, rows, ["bank_account"], [pl.col("chain")]).join(payees, on="bank_account")
        return found.select(
            "bank_account", "street", "amount_fen",
            title=pl.format("账户 {} 本月收到 {} 名领款人的救助金共 {} 元，"
                            "领款人之间既非同案成员也非近亲属，且未全部办理卡折代管备案",
                            pl.col("bank_account"), pl.col("payees").list.len(), pl.col("paid")),
            evidence=evidence("bank_account", "payees", "payee_ids"),
        )
