"""The access log against someone who can write to the store but does not hold the key.

One test per tampering of issue #14 (each must fail ``access-log verify`` with
its reason), then the states that are not tampering: an intact log, a crash
between commit and anchor write, entries from before the key. Also the key
file (0600, created once by racing processes) and concurrent appenders.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import multiprocessing
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, text, update

from auditor import store
from auditor.cli.main import main
from auditor.core.errors import AuditInputError
from auditor.followup import accesslog, logseal
from auditor.followup.accesslog import log_access, verify_log
from auditor.followup.privacy import User, add_user

IVY, ALICE, OLE = User("ivy", "inspector"), User("alice", "auditor"), User("ole", "office")
WRITERS = [IVY, ALICE, OLE, ALICE, IVY, OLE, ALICE, IVY]  # entries 1..8; verifying adds more
LOG = store.access_log


@pytest.fixture
def key(tmp_path, monkeypatch):
    path = tmp_path / "keys" / "access-log.key"
    monkeypatch.setenv(logseal.ENV, str(path))
    return path


@pytest.fixture
def engine(db_url, key):
    engine = store.connect(db_url)
    add_user(engine, "ivy", "inspector")
    add_user(engine, "alice", "auditor")
    for n, user in enumerate(WRITERS):
        log_access(engine, user, "findings.show", target=f"F{n}", detail={"n": n}, unmasked=n % 3 == 0)
    yield engine
    engine.dispose()


def verify(engine, user="ivy", *flags):
    """``access-log verify`` as a person runs it: (exit code, the one line printed)."""
    url = engine.url.render_as_string(hide_password=False)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["access-log", "verify", "--db", url, "--user", user, *flags])
    lines = (out.getvalue() + err.getvalue()).strip().splitlines()
    assert len(lines) == 1, lines
    return code, lines[0]


def rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(LOG).order_by(LOG.c.seq)).mappings()]


def recompute_from(engine, entries: list[dict], first: int, *, renumber: bool = False) -> None:
    """Recompute the sha256 chain from entry ``first`` on (the entries before it are left as they are)."""
    prev = accesslog.GENESIS if first == 1 else entries[first - 2]["hash"]
    out = [dict(e) for e in entries[:first - 1]]
    for n, e in enumerate(entries[first - 1:], start=first):
        e = dict(e, seq=n) if renumber else dict(e)
        body = json.dumps({k: e[k] for k in accesslog.FIELDS}, sort_keys=True, ensure_ascii=False)
        e["prev_hash"], e["hash"] = prev, hashlib.sha256((prev + body).encode()).hexdigest()
        prev = e["hash"]
        out.append(e)
    with engine.begin() as conn:
        conn.execute(delete(LOG))
        if out:
            conn.execute(insert(LOG), out)


def assert_broken(engine, at: int, reason: str) -> None:
    check = verify_log(engine)
    assert (check.state, check.broken_at) == ("broken", at), check
    assert reason in check.reason
    code, line = verify(engine)
    assert code == 1 and line.startswith("访问日志校验失败") and f"第 {at} 条" in line and reason in line


# ---------------------------------------------------------------- the ten tamperings


def test_deleting_the_newest_entry_is_truncation(engine):
    with engine.begin() as conn:
        conn.execute(delete(LOG).where(LOG.c.seq == 8))
    assert_broken(engine, 8, "日志被截断")


def test_deleting_the_newest_three_is_truncation(engine):
    with engine.begin() as conn:
        conn.execute(delete(LOG).where(LOG.c.seq >= 6))
    assert_broken(engine, 6, "日志被截断")


def test_editing_a_row_and_recomputing_the_chain(engine):
    entries = rows(engine)
    entries[3]["detail"] = json.dumps({"n": 99})
    recompute_from(engine, entries, 4)
    assert_broken(engine, 4, "未用密钥重算")


def test_editing_a_row_and_recomputing_the_whole_chain_from_the_start(engine):
    entries = rows(engine)
    entries[3]["detail"] = json.dumps({"n": 99})
    recompute_from(engine, entries, 1)
    assert_broken(engine, 1, "未用密钥重算")


def test_deleting_a_row_renumbering_and_recomputing(engine):
    entries = rows(engine)
    del entries[4]
    recompute_from(engine, entries, 5, renumber=True)
    assert_broken(engine, 5, "未用密钥重算")


def test_deleting_one_users_rows_and_recomputing(engine):
    entries = [e for e in rows(engine) if e["actor"] != "ole"]  # ole's first entry is seq 3
    recompute_from(engine, entries, 3, renumber=True)
    assert_broken(engine, 3, "未用密钥重算")


def test_deleting_every_row_is_truncation(engine):
    with engine.begin() as conn:
        conn.execute(delete(LOG))
    assert_broken(engine, 1, "日志被截断")
    assert "锚点记录 8 条" in verify_log(engine).reason


def test_editing_detail(engine):
    with engine.begin() as conn:
        conn.execute(update(LOG).where(LOG.c.seq == 2).values(detail=json.dumps({"n": 7})))
    assert_broken(engine, 2, "内容与签名不符")


def test_editing_the_actor(engine):
    with engine.begin() as conn:
        conn.execute(update(LOG).where(LOG.c.seq == 5).values(actor="mallory"))
    assert_broken(engine, 5, "内容与签名不符")


def test_flipping_the_unmasked_flag(engine):
    with engine.begin() as conn:
        conn.execute(update(LOG).where(LOG.c.seq == 1).values(unmasked=False))
    assert_broken(engine, 1, "内容与签名不符")


def test_deleting_a_middle_row(engine):
    with engine.begin() as conn:
        conn.execute(delete(LOG).where(LOG.c.seq == 4))
    assert_broken(engine, 4, "缺失")


def test_appending_after_truncation_keeps_the_evidence(engine):
    """Later appends neither move the anchor back nor hide the cut, even past the anchored seq."""
    with engine.begin() as conn:
        conn.execute(delete(LOG).where(LOG.c.seq >= 7))
    for _ in range(4):
        log_access(engine, ALICE, "findings.list")
    check = verify_log(engine)
    assert (check.state, check.broken_at, check.head_seq) == ("broken", 8, 10)
    assert "与锚点记录的哈希不符" in check.reason


# ---------------------------------------------------------------- what is not tampering


def test_an_intact_log_verifies_and_the_check_is_logged(engine):
    code, line = verify(engine)
    assert code == 0 and line == "访问日志完整：共 8 条，末条第 8 条与锚点一致"
    assert rows(engine)[-1]["action"] == "access_log.verify"
    assert verify(engine) == (0, "访问日志完整：共 9 条，末条第 9 条与锚点一致")


class Crash(BaseException):
    """The process dies between the commit and the anchor write."""


def crash(self, anchor):
    raise Crash


def test_a_crash_between_commit_and_anchor_is_reported_as_such(engine, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(logseal.Seal, "write_anchor", crash)
        with pytest.raises(Crash):
            log_access(engine, OLE, "findings.list")
    assert len(rows(engine)) == 9
    check = verify_log(engine)
    assert (check.state, check.behind, check.anchored_seq) == ("behind", 1, 8)
    code, line = verify(engine)
    assert code == 3 and "锚点落后 1 条" in line and "并非篡改" in line and "--reanchor" in line
    code, line = verify(engine, "ivy", "--reanchor")  # inspectors verify but may not re-anchor
    assert code == 2 and "无权" in line
    refusal = rows(engine)[-1]  # the refusal is logged too, and that append anchors over the verified gap
    assert (refusal["seq"], refusal["actor"], refusal["action"]) == (10, "ivy", "denied:access_log.reanchor")
    code, line = verify(engine, "alice", "--reanchor")
    assert code == 0 and line == "已重新锚定访问日志：末条第 10 条，共 10 条"
    last = rows(engine)[-1]
    assert (last["actor"], last["action"], json.loads(last["detail"])) == (
        "alice", "access_log.reanchor", {"from_seq": 10, "to_seq": 10})
    assert verify(engine)[0] == 0


def test_the_next_append_anchors_over_a_crash_gap_it_can_verify(engine, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(logseal.Seal, "write_anchor", crash)
        with pytest.raises(Crash):
            log_access(engine, OLE, "findings.list")
    log_access(engine, OLE, "findings.list")
    assert (verify_log(engine).state, verify_log(engine).head_seq) == ("intact", 10)


def test_a_truncated_log_is_never_reanchored(engine):
    with engine.begin() as conn:
        conn.execute(delete(LOG).where(LOG.c.seq == 8))
    code, line = verify(engine, "alice", "--reanchor")
    assert code == 1 and "日志被截断" in line
    assert verify_log(engine).state == "broken"


def test_a_forged_entry_beyond_the_anchor_is_not_a_crash_gap(engine):
    entries = rows(engine)
    forged = dict(entries[-1], seq=9, actor="mallory", prev_hash=entries[-1]["hash"])
    body = json.dumps({k: forged[k] for k in accesslog.FIELDS}, sort_keys=True, ensure_ascii=False)
    forged["hash"] = hashlib.sha256((forged["prev_hash"] + body).encode()).hexdigest()
    with engine.begin() as conn:
        conn.execute(insert(LOG).values(**forged))
    assert_broken(engine, 9, "内容与签名不符")
    assert verify(engine, "alice", "--reanchor")[0] == 1


def test_a_replaced_key_is_named(engine, key):
    key.unlink()
    code, line = verify(engine)
    assert code == 1 and "与锚点记录的密钥不符" in line
    with pytest.raises(AuditInputError, match="密钥不符"):
        log_access(engine, IVY, "findings.list")


def test_a_missing_anchor_stops_appends_until_reanchored(engine, key):
    anchors = list(key.parent.glob("*.anchor-*.json"))
    assert len(anchors) == 1
    anchors[0].unlink()
    code, line = verify(engine)
    assert code == 1 and "锚点文件不存在" in line
    with pytest.raises(AuditInputError, match="--reanchor"):
        log_access(engine, IVY, "findings.list")
    assert verify(engine, "alice", "--reanchor")[0] == 0
    assert verify(engine)[0] == 0


def test_entries_from_before_the_key_are_a_verified_legacy_prefix(db_url, key):
    engine = store.connect(db_url)
    prev = accesslog.GENESIS
    with engine.begin() as conn:  # written by the previous version: plain sha256, no key, no anchor
        for n in range(1, 4):
            e = {"seq": n, "at": f"2026-11-0{n}T08:00:00", "actor": "ivy", "role": "inspector",
                 "action": "findings.list", "target": None, "detail": "{}", "unmasked": False}
            digest = accesslog.legacy_hash(prev, e)
            conn.execute(insert(LOG).values(**e, prev_hash=prev, hash=digest))
            prev = digest
    assert not key.exists()
    check = verify_log(engine)
    assert (check.state, check.legacy) == ("intact", 3) and "3 条旧式记录" in check.message()
    log_access(engine, ALICE, "findings.list")
    check = verify_log(engine)
    assert (check.state, check.entries, check.legacy) == ("intact", 4, 3)
    assert check.message() == "访问日志完整：共 4 条（其中 3 条为启用密钥前的旧式记录），末条第 4 条与锚点一致"
    entries = rows(engine)  # rewriting the legacy part breaks the first keyed entry, which covers its head
    entries[1]["actor"] = "mallory"
    recompute_from(engine, entries[:3], 1)
    with engine.begin() as conn:
        conn.execute(insert(LOG).values(**entries[3]))
    check = verify_log(engine)
    assert (check.state, check.broken_at) == ("broken", 4)
    engine.dispose()


# ---------------------------------------------------------------- the key and concurrency


def test_key_and_anchor_are_readable_by_their_owner_only(engine, key):
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    (anchor,) = key.parent.glob("*.anchor-*.json")
    assert stat.S_IMODE(anchor.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    with engine.connect() as conn:  # the database holds neither the key nor its fingerprint
        dump = " ".join(str(v) for r in conn.execute(text("select * from access_log")) for v in r)
    assert key.read_text().strip() not in dump
    key.chmod(0o644)
    with pytest.raises(AuditInputError, match="chmod 600"):
        log_access(engine, IVY, "findings.list")


def _make_key(path: str, barrier) -> str:
    barrier.wait()
    return logseal.Seal(Path(path)).key().hex()


def test_processes_creating_the_key_at_once_end_with_one_key(tmp_path):
    path = tmp_path / "keys" / "access-log.key"
    ctx = multiprocessing.get_context("spawn")
    n = 4
    barrier = ctx.Manager().Barrier(n)
    with ctx.Pool(n) as pool:
        keys = pool.starmap(_make_key, [(str(path), barrier)] * n)
    assert len(set(keys)) == 1 and bytes.fromhex(keys[0]) == logseal.Seal(path).key()
    assert [p.name for p in path.parent.iterdir()] == ["access-log.key"]  # no temp files left


def _append(url: str, name: str, count: int, barrier) -> None:
    engine = store.connect(url)
    barrier.wait()
    for n in range(count):
        log_access(engine, User(name, "inspector"), "findings.list", detail={"n": n})
    engine.dispose()


def test_concurrent_appends_from_processes_and_threads_verify(db_url, key):
    engine = store.connect(db_url)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Manager().Barrier(4)
    procs = [ctx.Process(target=_append, args=(db_url, f"p{i}", 10, barrier)) for i in range(2)]
    threads = [threading.Thread(target=_append, args=(db_url, f"t{i}", 10, barrier)) for i in range(2)]
    for w in procs + threads:
        w.start()
    for w in procs + threads:
        w.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    check = verify_log(engine)
    assert (check.state, check.entries, check.head_seq) == ("intact", 40, 40)
    with engine.connect() as conn:
        per_actor = dict(conn.execute(text("select actor, count(*) from access_log group by actor")).all())
    assert per_actor == {"p0": 10, "p1": 10, "t0": 10, "t1": 10}
    engine.dispose()


def test_the_key_path_comes_from_the_profile_and_is_validated(tmp_path, monkeypatch):
    from auditor.core.config import Profile, load_profile

    assert load_profile(None).access_log_key == "out/keys/access-log.key"
    monkeypatch.delenv(logseal.ENV)
    logseal.configure(tmp_path / "k" / "a.key")
    try:
        assert logseal.current().key_path == tmp_path / "k" / "a.key"
    finally:
        logseal.configure(None)
    assert logseal.current().key_path == Path("out/keys/access-log.key")
    for bad in ("", "out/keys/", "out/..", "a\nb"):
        with pytest.raises(ValueError, match="access_log_key"):
            Profile(name="x", district="x", access_log_key=bad)
    bad_profile = tmp_path / "bad.toml"
    bad_profile.write_text('name = "x"\ndistrict = "x"\naccess_log_key = "keys/"\n', encoding="utf-8")
    with pytest.raises(AuditInputError, match="access_log_key"):
        load_profile(str(bad_profile))
