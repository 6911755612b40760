"""Small builders shared by the follow-up tests: findings frames, saving a month, CLI calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl

from auditor.cli import main as cli
from auditor.core.money import fen_to_yuan
from auditor.engine.registry import finding_id
from auditor.engine.runner import empty_findings
from auditor.followup import recurrence

PID_A = "310105199001011234"
PID_B = "310105198502023456"
ACCOUNT = "6222021000000002011"
PHONE = "13812345678"


def finding(person: str, *, street: str = "华阳路街道", amount: int = 120000, rule: str = "R01",
            evidence: dict | None = None, month: str = "2026-10") -> dict:
    ev = evidence if evidence is not None else {  # R01-shaped: its stable facts are person, program, paid
        "person_id": person, "program": "dibao", "paid": fen_to_yuan(amount), "paid_rows": [{"bank_account": ACCOUNT, "paid_on": f"{month}-09", "amount": amount}],
        "phone": PHONE}
    return {"finding_id": finding_id(rule, [person, "dibao"]), "rule": rule, "severity": "high", "month": month,
            "street": street, "program": "dibao", "person_id": person, "case_id": "C1", "staff_id": None,
            "bank_account": ACCOUNT, "application_id": None, "record_id": None, "amount_fen": amount,
            "title": f"领款人{person} 低保 {month}：无指令支付", "evidence": json.dumps(ev, ensure_ascii=False)}


def frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=empty_findings().schema)


def save(engine, month: str, *rows: dict) -> int:
    rows = [r | {"month": month} for r in rows]
    return recurrence.save_run(engine, month=month, profile="changning", data_dir="x",
                          started_at=datetime.now(UTC), frame=frame(*rows), summary={"month": month})


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def add_users(db_url: str) -> None:
    """One user of each role: alice (auditor), ivy (inspector), ole (office), bob (street 华阳路街道)."""
    from auditor import store
    from auditor.followup.privacy import add_user

    engine = store.connect(db_url)
    for name, role, street in (("alice", "auditor", None), ("ivy", "inspector", None), ("ole", "office", None),
                               ("bob", "street", "华阳路街道")):
        add_user(engine, name, role, street)
    engine.dispose()


def as_user(db_url: str, name: str) -> list[str]:
    """The ``--db`` and ``--user`` arguments of a command acting as ``name``."""
    return ["--db", db_url, "--user", name]
