"""The access log's secret key and its anchor: files outside the database.

The key (32 random bytes, hex) keys the HMAC-SHA256 chain of ``access_log``;
the anchor records the head the auditor last wrote (seq, hash, entry count) so
a log cut short is noticed. Both live in one folder of the machine that runs
the auditor, readable by its account only (files 0600, folder 0700). The key
path is the profile's ``access_log_key`` (``AUDITOR_ACCESS_LOG_KEY`` overrides
it); there is one anchor per store beside the key. See docs/access-log.md.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Connection

from auditor.core.errors import AuditInputError

ENV = "AUDITOR_ACCESS_LOG_KEY"
_configured: Path | None = None


def configure(key_path: str | Path | None) -> None:
    """Use ``key_path`` (from the command's profile) for this process; None: the default profile's."""
    global _configured
    _configured = Path(key_path) if key_path else None


def current() -> Seal:
    """The seal in force: ``AUDITOR_ACCESS_LOG_KEY``, else the configured profile's, else the default profile's."""
    if os.environ.get(ENV):
        return Seal(Path(os.environ[ENV]))
    if _configured is not None:
        return Seal(_configured)
    from auditor.core.config import load_profile

    return Seal(Path(load_profile(None).access_log_key))


def store_identity(conn: Connection) -> str:
    """Which store a connection reaches: the SQLite file's real path, or PostgreSQL host/db/schema."""
    url = conn.engine.url
    if conn.dialect.name == "sqlite":
        db = url.database or ":memory:"
        return f"sqlite:{db if db == ':memory:' else Path(db).resolve()}"
    database, schema = conn.execute(text("select current_database(), current_schema()")).one()
    return f"{conn.dialect.name}://{url.host or 'local'}:{url.port or ''}/{database}/{schema}"


@dataclass(frozen=True)
class Anchor:
    """The head of one store's log as last written by the auditor."""

    store: str
    seq: int  # newest entry (0: none)
    hash: str
    count: int
    legacy: int  # entries 1..legacy predate the key: plain sha256 chain
    key_id: str  # which key signed the chain (a fingerprint, not the key)
    at: str  # Beijing time of the write


def _check_private(path: Path, what: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AuditInputError(f"访问日志{what} {path} 权限为 {mode:o}，其他账户可访问；"
                              f"请改为仅本账户可用（chmod {'700' if path.is_dir() else '600'}）")


def _write_private(path: Path, data: bytes) -> Path:
    """A new 0600 temp file beside ``path`` holding ``data``, flushed to disk."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return Path(tmp)


@dataclass(frozen=True)
class Seal:
    key_path: Path

    @property
    def folder(self) -> Path:
        return self.key_path.parent

    def _ensure_folder(self) -> Path:
        if not self.folder.exists():
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)
        _check_private(self.folder, "密钥目录")
        return self.folder

    def key(self) -> bytes:
        """The key, created on first use; two processes creating it at once end with one key."""
        self._ensure_folder()
        if not self.key_path.exists():
            tmp = _write_private(self.key_path, secrets.token_bytes(32).hex().encode() + b"\n")
            try:
                os.link(tmp, self.key_path)  # atomic and exclusive: fails if another process won
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        _check_private(self.key_path, "密钥文件")
        raw = self.key_path.read_text(encoding="ascii", errors="replace").strip()
        try:
            key = bytes.fromhex(raw)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise AuditInputError(f"访问日志密钥文件 {self.key_path} 已损坏（应为 64 位十六进制）")
        return key

    def anchor_path(self, identity: str) -> Path:
        tag = hashlib.sha256(identity.encode()).hexdigest()[:16]
        return self.folder / f"{self.key_path.name}.anchor-{tag}.json"

    @contextmanager
    def locked(self, identity: str) -> Iterator[Path]:
        """Hold the exclusive lock of one store's anchor (a separate lock file: the anchor is replaced)."""
        path = self.anchor_path(identity)
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield path
        finally:
            os.close(fd)  # releases the lock

    def read_anchor(self, identity: str) -> Anchor | None:
        path = self.anchor_path(identity)
        if not path.exists():
            return None
        _check_private(path, "锚点文件")
        try:
            return Anchor(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            raise AuditInputError(f"访问日志锚点文件 {path} 已损坏") from None

    def write_anchor(self, anchor: Anchor) -> None:
        """Replace the anchor atomically (temp file, fsync, rename)."""
        path = self.anchor_path(anchor.store)
        data = json.dumps(asdict(anchor), ensure_ascii=False, indent=1).encode()
        os.replace(_write_private(path, data), path)
        dir_fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def key_id(key: bytes) -> str:
    return hmac.new(key, b"access-log key id", hashlib.sha256).hexdigest()[:16]


def beijing_now() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).isoformat(timespec="seconds")
