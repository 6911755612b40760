"""Recording a run's findings: occurrences replaced, findings carried across months, reopen policy.

Recurrence across months (``save_run``): a finding that fires again keeps its
id and history. Open ones stay as they are; one closed as ``rectified`` or
``confirmed`` is reopened and flagged ``recurring``; one ``dismissed`` stays
dismissed unless its stable facts changed (``facts_hash`` over the facts the rule
declares, ``auditor.engine.facts``), then it is reopened with an event naming each
changed fact with its old and new value. Only a month later than the finding's last month
counts as a recurrence, so rerunning a month changes no state and adds no event.

A run is saved in one transaction: a failure half-way leaves the previous
state intact. Saves are serialised (on PostgreSQL a transaction-level advisory lock
taken first; on SQLite the run insert, the first statement, takes the database's write
lock): two runs of different months that both see a finding for the first time would
otherwise both insert it, and the second would fail on the findings key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import polars as pl
from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from auditor.engine.facts import describe, facts_diff, frame_facts, parse
from auditor.engine.people import people_in
from auditor.followup.lifecycle import REOPEN, check_transition, status_label
from auditor.store.bulk import batches, bulk_insert
from auditor.store.tables import OCCURRENCE_COLUMNS, event_row, events, finding_people, findings, now, occurrences, runs

SAVE_LOCK = 727002  # PostgreSQL advisory lock key: one save_run at a time


def save_run(engine: Engine, *, month: str, profile: str, data_dir: str, started_at: datetime,
             frame: pl.DataFrame, summary: dict, actor: str = "system", status: str = "ok",
             before_commit: Callable[[], None] | None = None) -> int:
    """Store one audit run and its findings in one transaction; return the run id.

    The month's occurrences (and their ``finding_people`` index) are replaced; findings (and their follow-up state)
    are inserted when new and otherwise carried over (see the module docstring
    for recurrence), with ``last_month`` advanced. The run row gets ``status``; ``before_commit``
    is called last inside the transaction (a fault-injection point).
    """

    stamp = now()
    evidence = [parse(e) for e in frame["evidence"]]  # parsed once, for the facts and the people
    texts, hashes = frame_facts(frame, evidence)
    frame = frame.with_columns(facts_hash=pl.Series(hashes, dtype=pl.String), facts=pl.Series(texts, dtype=pl.String))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": SAVE_LOCK})
        run_key = conn.execute(insert(runs).values(
            month=month, profile=profile, data_dir=data_dir, started_at=started_at,
            finished_at=stamp, status=status, summary=json.dumps(summary, ensure_ascii=False, default=str),
        )).inserted_primary_key
        assert run_key is not None  # a single-row insert always reports its primary key
        run_id = run_key[0]
        conn.execute(delete(occurrences).where(occurrences.c.month == month))
        bulk_insert(conn, occurrences, frame.with_columns(run_id=pl.lit(run_id)).select(OCCURRENCE_COLUMNS))
        conn.execute(delete(finding_people).where(finding_people.c.month == month))
        people = [(fid, p, role) for fid, pid, ev in zip(frame["finding_id"], frame["person_id"], evidence, strict=True)
                  for p, role in people_in(pid, ev)]
        bulk_insert(conn, finding_people, pl.DataFrame(people, schema=["finding_id", "person_id", "role"], orient="row")
                    .select("finding_id", month=pl.lit(month), person_id="person_id", role="role"))

        existing = {r.finding_id: r for r in conn.execute(
            select(findings.c.finding_id, findings.c.first_month, findings.c.last_month, findings.c.status,
                   findings.c.facts_hash, findings.c.recurring)
            .where(findings.c.finding_id.in_(select(occurrences.c.finding_id)
                                             .where(occurrences.c.month == month))))}
        seen = pl.col("finding_id").is_in(pl.Series(list(existing), dtype=pl.String).implode())
        new = frame.filter(~seen)
        bulk_insert(conn, findings, new.select(
            "finding_id", "rule", "severity", "street", "person_id", "case_id", "staff_id", "facts_hash",
            first_month=pl.lit(month), last_month=pl.lit(month), status=pl.lit("new"), recurring=pl.lit(False),
            updated_at=pl.lit(stamp)))
        new_events, changed = [], {}
        for r in frame.filter(seen).select("finding_id", "facts_hash", "facts").iter_rows(named=True):
            old = existing[r["finding_id"]]
            if month > old.last_month and (old.facts_hash != r["facts_hash"] or old.status in REOPEN):
                changed[r["finding_id"]] = (old, r)
        later = [fid for fid, r in existing.items() if r.last_month < month]
        for batch in batches(later):
            conn.execute(update(findings).where(findings.c.finding_id.in_(batch))
                         .values(last_month=month, updated_at=stamp))
        earlier = [fid for fid, r in existing.items() if r.first_month > month]
        for batch in batches(earlier):
            conn.execute(update(findings).where(findings.c.finding_id.in_(batch)).values(first_month=month))

        previous = _previous_facts(conn, {fid: old.facts_hash for fid, (old, _) in changed.items()}, month)
        reopened, refreshed = [], []
        for fid, (old, r) in changed.items():
            diff = (describe(facts_diff(json.loads(previous[fid]["facts"] or "{}"), json.loads(r["facts"])))
                    if fid in previous else "") or "事实变化 facts changed"
            if old.status in REOPEN and (REOPEN[old.status] or old.facts_hash != r["facts_hash"]):
                check_transition(old.status, "new")
                recurring = REOPEN[old.status]
                note = (f"{month} 再次发现，重新打开（原状态 {status_label(old.status)}）" if recurring
                        else f"{month} 事实变化，重新打开已排除的线索：{diff}")
                reopened.append({"fid": fid, "h": r["facts_hash"], "rec": recurring or old.recurring})
                new_events.append(event_row(fid, stamp, actor, "reopened", old.status, "new", note))
            elif old.status not in REOPEN:  # open, facts changed (dismissed with same facts: left alone)
                refreshed.append({"fid": fid, "h": r["facts_hash"]})
                new_events.append(event_row(fid, stamp, actor, "facts_changed", old.status, old.status,
                                            f"{month} 事实变化：{diff}"))
        by_id = findings.c.finding_id == bindparam("fid")
        if reopened:
            conn.execute(update(findings).where(by_id).values(
                status="new", recurring=bindparam("rec"), facts_hash=bindparam("h"), assignee=None,
                assigned_street=None, due_date=None, close_reason=None, updated_at=stamp), reopened)
        if refreshed:
            conn.execute(update(findings).where(by_id).values(facts_hash=bindparam("h"), updated_at=stamp), refreshed)
        bulk_insert(conn, events, new.select(  # the new findings' events first (the event ids' order)
            "finding_id", at=pl.lit(stamp), actor=pl.lit(actor), action=pl.lit("created"),
            from_status=pl.lit(None, pl.String), to_status=pl.lit("new"), note=pl.lit(f"{month} 审计发现"),
            amount_fen=pl.lit(None, pl.Int64)))
        bulk_insert(conn, events, new_events)
        if before_commit:
            before_commit()
    return int(run_id)


def mark_run(engine: Engine, run_id: int, status: str, error: str | None = None) -> None:
    """Set a stored run's status; an ``error`` is kept in its summary (``outputs_error``)."""
    with engine.begin() as conn:
        values: dict = {"status": status}
        if error is not None:
            old = conn.execute(select(runs.c.summary).where(runs.c.run_id == run_id)).scalar_one()
            values["summary"] = json.dumps(json.loads(old or "{}") | {"outputs_error": error}, ensure_ascii=False)
        conn.execute(update(runs).where(runs.c.run_id == run_id).values(**values))


def last_run(engine: Engine, month: str) -> dict | None:
    """The latest stored run of ``month`` (run_id, status, finished_at, summary), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(runs.c.run_id, runs.c.status, runs.c.finished_at, runs.c.summary)
                           .where(runs.c.month == month).order_by(runs.c.run_id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def _previous_facts(conn: Connection, wanted: dict[str, str | None], month: str) -> dict[str, dict]:
    """For each finding, the latest earlier occurrence with the given facts hash."""
    found: dict[str, dict] = {}
    for batch in batches(list(wanted)):
        rows = conn.execute(select(occurrences.c.finding_id, occurrences.c.month, occurrences.c.facts,
                                   occurrences.c.facts_hash)
                            .where(occurrences.c.finding_id.in_(batch), occurrences.c.month < month)
                            .order_by(occurrences.c.month.desc())).mappings()
        for r in rows:
            if r["finding_id"] not in found and r["facts_hash"] == wanted[r["finding_id"]]:
                found[r["finding_id"]] = dict(r)
    return found


