"""Files holding personal data: readable by their owner only, named safely.

Folders are created 0700 and files 0600 (whatever the umask), so an output or a store on a
shared machine is never readable by other accounts. ``safe_name`` turns an id typed by a
user (``../../../../tmp/x``) into a plain file name that stays inside its folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import IO, Any

_UNSAFE = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff_.-]+")


def safe_name(text: str, default: str = "x") -> str:
    """A file-name part with no separators, no leading dots and no ``..``: ``../../tmp/x`` -> ``tmp_x``."""
    name = _UNSAFE.sub("_", text).replace("..", "_").strip("._")
    return name[:80] or default


def private_dir(path: str | Path) -> Path:
    """Create ``path`` and its missing parents readable by the owner only (0700); folders that already
    exist are left as they are (the files written into them are 0600)."""
    p = Path(path)
    if p.is_dir():
        return p
    old = os.umask(0o077)
    try:
        p.mkdir(parents=True, exist_ok=True)
    finally:
        os.umask(old)
    return p


def make_private(path: str | Path) -> Path:
    """Restrict an existing file to its owner (0600)."""
    os.chmod(path, 0o600)
    return Path(path)


def private_open(path: str | Path, mode: str = "w", **kw: Any) -> IO[Any]:
    """``open`` for writing a new file created 0600 (an existing one is tightened first)."""
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(p, 0o600)
    return os.fdopen(fd, mode, **kw)


def write_private_text(path: str | Path, text: str, *, bom: bool = False) -> Path:
    with private_open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        f.write(text)
    return Path(path)


def write_private_bytes(path: str | Path, data: bytes) -> Path:
    with private_open(path, "wb") as f:
        f.write(data)
    return Path(path)
