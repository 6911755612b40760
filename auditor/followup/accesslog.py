"""The access log: every query and unmasked view, HMAC-chained and anchored outside the store.

Entry *n* stores ``HMAC-SHA256(key, hash(n-1) + canonical entry n)`` with the
key of :mod:`auditor.followup.logseal`, which the database does not hold, so a
row cannot be edited, removed or renumbered and the chain recomputed without
the key. After each append the head (seq, hash, count) is written to the
anchor file, so a log cut short (newest entries or every entry deleted) is
behind its anchor. Entries written before the key existed (plain sha256 chain)
stay a verified legacy prefix whose length the anchor records. Appenders hold
the anchor's file lock around "append, commit, write anchor". See docs/access-log.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError, OperationalError

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.followup import logseal
from auditor.followup.logseal import Anchor, Seal

if TYPE_CHECKING:
    from auditor.followup.privacy import User

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor", "role", "action", "target", "detail", "unmasked")


def canonical(prev_hash: str, entry: dict) -> bytes:
    """What an entry's hash covers: the previous hash and the entry's fields."""
    body = json.dumps({k: entry[k] for k in FIELDS}, sort_keys=True, ensure_ascii=False)
    return (prev_hash + body).encode()


def legacy_hash(prev_hash: str, entry: dict) -> str:
    return hashlib.sha256(canonical(prev_hash, entry)).hexdigest()


def keyed_hash(key: bytes, prev_hash: str, entry: dict) -> str:
    return hmac.new(key, canonical(prev_hash, entry), hashlib.sha256).hexdigest()


def _identity(engine: Engine) -> str:
    with engine.connect() as conn:
        return logseal.store_identity(conn)


def _key_mismatch(seal: Seal) -> str:
    return (f"访问日志密钥 {seal.key_path} 与锚点记录的密钥不符（密钥文件被替换或配置的路径不对），"
            "请恢复原密钥文件")


def log_access(engine: Engine, user: User, action: str, *, target: str | None = None, detail: dict | None = None,
               unmasked: bool = False) -> int:
    """Append one access-log entry, keyed and anchored; return its sequence number."""
    seal = logseal.current()
    key = seal.key()
    kid = logseal.key_id(key)
    identity = _identity(engine)
    log = store.access_log
    with seal.locked(identity):
        anchor = seal.read_anchor(identity)
        if anchor is not None and anchor.key_id != kid:
            raise AuditInputError(_key_mismatch(seal))
        for _ in range(20):  # another machine took the same seq, or SQLite was busy: read the new tail, retry
            try:
                with engine.begin() as conn:
                    tail = conn.execute(select(log).order_by(log.c.seq.desc()).limit(1)).mappings().first()
                    if anchor is None and tail is not None and not _is_legacy(tail):
                        raise AuditInputError(
                            f"访问日志锚点 {seal.anchor_path(identity)} 不存在，而日志已有密钥签名的记录；"
                            "请核对密钥路径，审计人员核查后可运行 access-log verify --reanchor")
                    legacy = anchor.legacy if anchor else (tail["seq"] if tail else 0)
                    advance = anchor is None or _extends(conn, key, anchor, tail)
                    seq, prev = (tail["seq"] + 1, tail["hash"]) if tail else (1, GENESIS)
                    entry = {"seq": seq, "at": store.now().isoformat(timespec="microseconds"), "actor": user.name,
                             "role": user.role, "action": action, "target": target,
                             "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
                             "unmasked": bool(unmasked)}
                    digest = keyed_hash(key, prev, entry)
                    conn.execute(insert(log).values(**entry, prev_hash=prev, hash=digest))
                break
            except (IntegrityError, OperationalError):
                continue
        else:  # pragma: no cover - 20 collisions in a row
            raise RuntimeError("access log busy")
        if advance:  # a log that no longer extends the anchor keeps its anchor: the evidence stays
            seal.write_anchor(Anchor(identity, seq, digest, seq, legacy, kid, logseal.beijing_now()))
    return seq


def _is_legacy(row: RowMapping) -> bool:
    return legacy_hash(row["prev_hash"], _entry(row)) == row["hash"]


def _entry(row: RowMapping) -> dict:
    return dict(row) | {"unmasked": bool(row["unmasked"])}


def _extends(conn: Connection, key: bytes, anchor: Anchor, tail: RowMapping | None) -> bool:
    """Whether the log still holds the anchored head and every entry after it is keyed by us."""
    if tail is None or tail["seq"] < anchor.seq:
        return tail is None and anchor.seq == 0
    log = store.access_log
    rows = conn.execute(select(log).where(log.c.seq >= anchor.seq).order_by(log.c.seq)).mappings().all()
    prev, expected = anchor.hash, anchor.seq + 1
    if anchor.seq and (not rows or rows[0]["seq"] != anchor.seq or rows[0]["hash"] != anchor.hash):
        return False
    for r in rows[1:] if anchor.seq else rows:  # entries a crash left unanchored
        if r["seq"] != expected or r["prev_hash"] != prev or keyed_hash(key, prev, _entry(r)) != r["hash"]:
            return False
        prev, expected = r["hash"], expected + 1
    return True


State = Literal["intact", "behind", "broken"]


@dataclass(frozen=True)
class LogCheck:
    """The outcome of checking the log against the key and the anchor."""

    state: State  # behind: a crash between commit and anchor write
    entries: int
    head_seq: int
    legacy: int = 0  # entries before the key (verified as the plain sha256 chain)
    broken_at: int | None = None
    reason: str = ""
    anchored_seq: int = 0
    anchored: bool = True

    @property
    def behind(self) -> int:
        return self.head_seq - self.anchored_seq if self.state == "behind" else 0

    def message(self) -> str:
        """One Chinese line for the person who asked."""
        if self.state == "broken":
            where = f"第 {self.broken_at} 条" if self.broken_at else ""
            return f"访问日志校验失败：{where}{self.reason}（已检查 {self.entries} 条）"
        if self.state == "behind":
            return (f"访问日志锚点落后 {self.behind} 条：第 {self.anchored_seq + 1}–{self.head_seq} 条密钥签名有效，"
                    "系提交后、写锚点前中断，并非篡改；审计人员核查后运行 access-log verify --reanchor")
        if not self.anchored:
            if self.entries == 0:
                return "访问日志完整：共 0 条（尚未启用密钥，下一条记录起加密钥签名并锚定）"
            return (f"访问日志完整：共 {self.entries} 条旧式记录（尚未启用密钥，"
                    "下一条记录起加密钥签名并锚定）")
        legacy = f"（其中 {self.legacy} 条为启用密钥前的旧式记录）" if self.legacy else ""
        return f"访问日志完整：共 {self.entries} 条{legacy}，末条第 {self.head_seq} 条与锚点一致"


@dataclass
class _Scan:
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    legacy: int = 0
    keyed: bool = False
    broken_at: int | None = None
    reason: str = ""
    hash_at_anchor: str | None = None


def _scan(engine: Engine, key: bytes, legacy: int | None, anchor_seq: int) -> _Scan:
    """Walk the chain: entries 1..legacy by sha256 (None: as long as they verify so), the rest by HMAC."""
    log = store.access_log
    s = _Scan()
    with engine.connect() as conn:
        for r in conn.execute(select(log).order_by(log.c.seq)).mappings():
            s.entries += 1
            expected = s.head_seq + 1
            entry = _entry(r)
            if r["seq"] != expected:
                s.broken_at, s.reason = expected, "缺失（记录被删除）"
                return s
            if r["prev_hash"] != s.head_hash:
                s.broken_at, s.reason = r["seq"], "的前序哈希与上一条不符"
                return s
            old = (legacy is None and not s.keyed) or (legacy is not None and r["seq"] <= legacy)
            if old and legacy_hash(s.head_hash, entry) == r["hash"]:
                s.legacy += 1
            elif (legacy is None or not old) and keyed_hash(key, s.head_hash, entry) == r["hash"]:
                s.keyed = True
            else:
                s.broken_at, s.reason = r["seq"], "内容与签名不符（被改动，或未用密钥重算）"
                return s
            s.head_seq, s.head_hash = r["seq"], r["hash"]
            if r["seq"] == anchor_seq:
                s.hash_at_anchor = r["hash"]
    return s


def _check(engine: Engine, key: bytes, anchor: Anchor | None) -> tuple[LogCheck, _Scan]:
    s = _scan(engine, key, anchor.legacy if anchor else None, anchor.seq if anchor else 0)
    if s.broken_at is not None:
        return LogCheck("broken", s.entries, s.head_seq, s.legacy, s.broken_at, s.reason), s
    if anchor is None:
        if s.keyed:
            return LogCheck("broken", s.entries, s.head_seq, s.legacy, None,
                            "锚点文件不存在，而日志已有密钥签名的记录（锚点被移走，或密钥路径配置不对）",
                            anchored=False), s
        return LogCheck("intact", s.entries, s.head_seq, s.legacy, anchored=False), s
    if s.head_seq < anchor.seq:
        return LogCheck("broken", s.entries, s.head_seq, s.legacy, s.head_seq + 1,
                        f"起缺失：日志被截断（锚点记录 {anchor.count} 条，末条第 {anchor.seq} 条；"
                        f"库中只有 {s.entries} 条）", anchor.seq), s
    if anchor.seq and s.hash_at_anchor != anchor.hash:
        return LogCheck("broken", s.entries, s.head_seq, s.legacy, anchor.seq,
                        "与锚点记录的哈希不符（日志被改写）", anchor.seq), s
    state: State = "intact" if s.head_seq == anchor.seq else "behind"
    return LogCheck(state, s.entries, s.head_seq, s.legacy, anchored_seq=anchor.seq), s


def verify_log(engine: Engine) -> LogCheck:
    """Recompute every hash with the key and compare the head with the anchor (appenders wait meanwhile)."""
    seal = logseal.current()
    key = seal.key()
    identity = _identity(engine)
    with seal.locked(identity):
        anchor = seal.read_anchor(identity)
        if anchor is not None and anchor.key_id != logseal.key_id(key):
            return LogCheck("broken", 0, 0, reason=_key_mismatch(seal))
        return _check(engine, key, anchor)[0]


def reanchor(engine: Engine) -> tuple[LogCheck, int]:
    """Anchor the verified head again (after a crash gap or a lost anchor); return the check and the old seq.

    A log whose entries do not all verify, or that no longer holds the
    anchored head (truncated, rewritten), is never re-anchored: its check is
    returned as "broken".
    """
    seal = logseal.current()
    key = seal.key()
    kid = logseal.key_id(key)
    identity = _identity(engine)
    with seal.locked(identity):
        anchor = seal.read_anchor(identity)
        old = anchor.seq if anchor else 0
        if anchor is not None and anchor.key_id != kid:
            return LogCheck("broken", 0, 0, reason=_key_mismatch(seal)), old
        check, s = _check(engine, key, anchor)
        if check.state == "broken" and check.anchored:
            return check, old
        seal.write_anchor(Anchor(identity, s.head_seq, s.head_hash, s.entries, s.legacy, kid, logseal.beijing_now()))
    return LogCheck("intact", s.entries, s.head_seq, s.legacy, anchored_seq=s.head_seq), old
