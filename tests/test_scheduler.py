"""The month lock (two concurrent attempts), the scheduler cycle, retries, reminders, the office report."""

from __future__ import annotations

import logging
import threading
from datetime import date

import pytest
from sqlalchemy import select

from auditor import store
from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.core.periods import month_window
from auditor.demo import generate
from auditor.followup import recurrence
from auditor.followup.office import TREND_MONTHS, build_office_report
from auditor.jobs import monthly, scheduler
from tests.followup_helpers import finding, save


def test_two_concurrent_attempts_get_the_lock_exactly_once(db_url):
    engine = store.connect(db_url)
    barrier, results = threading.Barrier(2), []

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            with store.lock(engine, "audit:2026-10", f"holder-{n}"):
                results.append("ran")
                barrier.wait()  # hold the lock until the other attempt has finished
        except store.LockBusy as exc:
            results.append(str(exc))
            barrier.wait()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results)[0].startswith("audit:2026-10 正在运行") and sorted(results)[1] == "ran"
    assert store.count_rows(engine, store.locks) == 0  # released
    with store.lock(engine, "audit:2026-10", "later"):  # free again
        with pytest.raises(store.LockBusy):
            with store.lock(engine, "audit:2026-10", "other"):
                pass
        with store.lock(engine, "audit:2026-11", "other"):  # another month is independent
            pass
    engine.dispose()


def test_month_lock_refuses_a_second_run_with_a_clear_error(db_url):
    with monthly.month_lock(db_url, "2026-10"):
        with pytest.raises(AuditInputError, match="已在运行"):
            with monthly.month_lock(db_url, "2026-10"):
                pass


@pytest.fixture
def profile(tmp_path):
    base = load_profile(None)
    settings = base.schedule.model_copy(update={
        "inbox": str(tmp_path / "inbox"), "out": str(tmp_path / "out"), "db": f"sqlite:///{tmp_path / 'a.db'}",
        "reminders_dir": str(tmp_path / "reminders"), "retries": 2, "retry_delay_seconds": 0})
    return base.model_copy(update={"schedule": settings})


def runs(profile) -> list[str]:
    engine = store.connect(profile.schedule.db)
    with engine.connect() as conn:
        months = conn.execute(select(store.runs.c.month).order_by(store.runs.c.run_id)).scalars().all()
    engine.dispose()
    return months


def test_cycle_audits_ready_months_once_from_the_configured_day(profile, tmp_path, caplog):
    inbox = tmp_path / "inbox"
    generate(inbox / "2026-09", month="2026-09", n_cases=120)
    (inbox / "2026-10").mkdir(parents=True)  # drop not arrived yet: no marker, no tables
    assert scheduler.due_months(profile, date(2026, 10, 4)) == []  # before day 5 of the next month
    assert scheduler.due_months(profile, date(2026, 11, 30)) == ["2026-09"]
    with caplog.at_level(logging.INFO, logger="auditor.scheduler"):
        assert scheduler.cycle(profile, date(2026, 10, 5)) == {"2026-09": True}
    assert "季度信息比对 2026-09 结束，退出码 0" in caplog.text  # 2026-09 ends a quarter: the job ran
    assert (tmp_path / "out" / "2026-09" / "report.html").exists()
    assert (tmp_path / "out" / "2026Q3" / "quarterly.html").exists()
    assert (tmp_path / "out" / "2026Q3" / "quarterly.csv").exists()
    assert scheduler.cycle(profile, date(2026, 10, 6)) == {}  # done months are not rerun
    assert runs(profile) == ["2026-09"]
    assert (tmp_path / "reminders" / "overdue-2026-10-06.csv").exists()


def test_marker_makes_a_month_ready(profile, tmp_path):
    folder = tmp_path / "inbox" / "2026-10"
    folder.mkdir(parents=True)
    assert not scheduler.drop_ready(folder, "READY")
    (folder / "READY").touch()
    assert scheduler.drop_ready(folder, "READY")


def test_failed_run_is_retried_bounded_and_leaves_nothing(profile, tmp_path, monkeypatch, caplog):
    generate(tmp_path / "inbox" / "2026-10", month="2026-10", n_cases=60)
    calls = []

    def broken(conn, table, rows):
        calls.append(table.name)
        raise RuntimeError("disk full")

    monkeypatch.setattr(recurrence, "bulk_insert", broken)
    sleeps = []
    assert scheduler.run_month(profile, "2026-10", sleep=sleeps.append) is False
    assert calls.count("occurrences") == 3 and sleeps == [0, 0]  # 1 + 2 retries
    assert "gave up" in caplog.text
    monkeypatch.undo()
    assert runs(profile) == []
    engine = store.connect(profile.schedule.db)
    assert store.count_rows(engine, store.findings) == 0 and store.count_rows(engine, store.locks) == 0
    engine.dispose()


def test_reminders_list_overdue_rectifications_masked(profile, tmp_path):
    from auditor.followup import workflow as followup

    engine = store.connect(profile.schedule.db)
    f = finding("310105199001011234")
    save(engine, "2026-10", f, finding("310105199001015678"))
    followup.assign(engine, f["finding_id"], street="华阳路街道", person="张", due=date(2026, 11, 1), actor="a")
    engine.dispose()
    out = scheduler.write_reminders(profile, date(2026, 11, 11))
    text = out.read_text(encoding="utf-8")
    assert f["finding_id"] in text and ",10," in text and "310105199001011234" not in text
    assert text.count("\n") == 2  # header + the one overdue item


def test_office_report_trend_ageing_and_scorecard(db_url):
    from auditor.followup import workflow as followup

    engine = store.connect(db_url)
    a, b = finding("310105199001010011"), finding("310105199001010022", street="江苏路街道")
    save(engine, "2026-10", finding("310105199001010011", month="2026-10"), b)
    save(engine, "2026-11", finding("310105199001010011", month="2026-11"))
    followup.assign(engine, a["finding_id"], street="华阳路街道", person="张", due=date(2026, 11, 1), actor="x")
    followup.close(engine, b["finding_id"], "dismissed", actor="x", reason="不实")
    r = build_office_report(engine, "2026-11", district="长宁区", today=date(2026, 11, 21))
    assert r.months == month_window("2026-11", TREND_MONTHS) and r.months[-2:] == ["2026-10", "2026-11"]
    rule = next(t for t in r.by_rule if t.key == "R01")
    assert rule.counts[-2:] == [2, 1] and rule.change == -1
    assert (r.open_total, r.overdue_total) == (1, 1)
    assert r.open_items[0].finding_id == a["finding_id"] and r.open_items[0].days_overdue == 20
    cards = {s.street: s for s in r.scorecard}
    assert cards["江苏路街道"].closure_rate == "100%" and cards["华阳路街道"].overdue == 1
    assert float(cards["江苏路街道"].score) > float(cards["华阳路街道"].score)
    engine.dispose()


def test_run_command_refuses_while_the_month_is_locked(db_url, tmp_path, capsys):
    from auditor.cli import main as cli

    with monthly.month_lock(db_url, "2026-10"):
        code = cli.main(["run", "--month", "2026-10", "--data", str(tmp_path), "--db", db_url])
    assert code == 2 and "已在运行" in capsys.readouterr().err
