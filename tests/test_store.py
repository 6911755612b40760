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


def test_a_frame_is_stored_as_the_same_rows_given_as_dicts(db_url):
    """``bulk_insert`` of a frame (COPY on PostgreSQL from 100 rows, tuples to the driver on SQLite) stores
    what the dicts would: booleans, dates, times with a zone, nulls."""
    engine = store.connect(db_url)
    stamp, due = datetime(2026, 11, 30, 5, 6, 7, 891011, tzinfo=UTC), datetime(2026, 12, 31).date()

    def rows(prefix: str) -> list[dict]:
        return [{"finding_id": f"{prefix}{i:03}", "rule": "R01", "severity": "high", "street": None if i % 3 else "街",
                 "person_id": f"P{i}", "case_id": None, "staff_id": None, "first_month": "2026-10",
                 "last_month": "2026-10", "status": "new", "recurring": i % 2 == 0, "due_date": due if i % 5 else None,
                 "facts_hash": "h", "updated_at": stamp} for i in range(120)]

    with engine.begin() as conn:
        store.bulk_insert(conn, store.findings, rows("d"))
        store.bulk_insert(conn, store.findings, pl.DataFrame(rows("f")))
        store.bulk_insert(conn, store.findings, pl.DataFrame(rows("s")[:3]))  # below COPY's size
    with engine.connect() as conn:
        stored = {r.finding_id: r._asdict() for r in conn.execute(select(store.findings))}
        if engine.dialect.name == "sqlite":  # the text SQLite holds, as SQLAlchemy writes it
            raw = dict(conn.exec_driver_sql("select finding_id, updated_at || '|' || coalesce(due_date, '') || '|' "
                                            "|| recurring from findings").all())
    assert len(stored) == 243
    for i in range(120):
        d, f = stored[f"d{i:03}"], stored[f"f{i:03}"]
        assert {**f, "finding_id": None} == {**d, "finding_id": None}
        assert d["recurring"] is (i % 2 == 0) and (d["due_date"] == due) == bool(i % 5)
        if engine.dialect.name == "sqlite":
            assert raw[f"f{i:03}"] == raw[f"d{i:03}"]
    assert {**stored["s002"], "finding_id": None} == {**stored["d002"], "finding_id": None}
    engine.dispose()
