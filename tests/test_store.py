"""The store on SQLite and PostgreSQL: reruns replace, follow-up survives, failures roll back."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from sqlalchemy import select, update

from auditor import store
from auditor.engine.registry import finding_id
from auditor.engine.runner import empty_findings
from auditor.followup import recurrence


def frame(*subjects: tuple[str, str], amount: int = 120000) -> pl.DataFrame:
    rows = [{"finding_id": finding_id("R01", [p, prog]), "rule": "R01", "severity": "high", "month": "2026-10",
             "street": "华阳路街道", "program": prog, "person_id": p, "case_id": None, "staff_id": None,
             "bank_account": None, "application_id": None, "record_id": None, "amount_fen": amount,
             "title": f"领款人{p} 无指令支付", "evidence": "{}"} for p, prog in subjects]
    return pl.DataFrame(rows, schema=empty_findings().schema)


def save(engine, f: pl.DataFrame, month: str = "2026-10") -> int:
    f = f.with_columns(month=pl.lit(month))
    return recurrence.save_run(engine, month=month, profile="changning", data_dir="x",
                          started_at=datetime.now(UTC), frame=f, summary={"month": month})


def test_rerun_replaces_month_without_duplicates_and_keeps_followup(db_url):
    engine = store.connect(db_url)
    save(engine, frame(("A", "dibao"), ("B", "dibao")))
    fid = finding_id("R01", ["A", "dibao"])
    with engine.begin() as conn:
        conn.execute(update(store.findings).where(store.findings.c.finding_id == fid)
                     .values(status="assigned", assignee="张科长"))
    save(engine, frame(("A", "dibao"), ("B", "dibao")))
    assert store.count_rows(engine, store.occurrences) == 2
    assert store.count_rows(engine, store.findings) == 2
    with engine.connect() as conn:
        row = conn.execute(select(store.findings).where(store.findings.c.finding_id == fid)).mappings().one()
    assert (row["status"], row["assignee"]) == ("assigned", "张科长")
    assert store.count_rows(engine, store.runs) == 2
    engine.dispose()


def test_rerun_drops_findings_that_no_longer_fire_from_the_month(db_url):
    engine = store.connect(db_url)
    save(engine, frame(("A", "dibao"), ("B", "dibao")))
    save(engine, frame(("A", "dibao")))
    month = store.month_findings(engine, "2026-10")
    assert month["person_id"].to_list() == ["A"]
    engine.dispose()


def test_next_month_keeps_the_finding_id_and_advances_last_month(db_url):
    engine = store.connect(db_url)
    save(engine, frame(("A", "dibao")), "2026-10")
    save(engine, frame(("A", "dibao")), "2026-11")
    with engine.connect() as conn:
        row = conn.execute(select(store.findings)).mappings().one()
    assert (row["first_month"], row["last_month"]) == ("2026-10", "2026-11")
    assert store.count_rows(engine, store.occurrences) == 2
    engine.dispose()


def test_a_failure_half_way_leaves_the_previous_state(db_url, monkeypatch):
    engine = store.connect(db_url)
    save(engine, frame(("A", "dibao"), ("B", "dibao")))
    real = store.bulk_insert

    def failing(conn, table, rows):
        real(conn, table, rows)
        if table is store.findings:
            raise RuntimeError("disk full")

    monkeypatch.setattr(recurrence, "bulk_insert", failing)
    with pytest.raises(RuntimeError):
        save(engine, frame(("C", "dibao")))
    month = store.month_findings(engine, "2026-10")
    assert sorted(month["person_id"].to_list()) == ["A", "B"]
    assert store.count_rows(engine, store.runs) == 1
    engine.dispose()
