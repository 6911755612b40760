"""Outputs that appear all at once: written into a hidden sibling folder of ``--out``, then moved into place.

A kill while writing leaves ``--out`` as it was (the previous run's complete outputs, or absent) and
a hidden ``.<name>.writing-<pid>-…`` folder that the next publish beside it removes once its process
is gone. ``--out`` is replaced as a whole, so it may hold only a run's output files.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from auditor.core.errors import AuditInputError
from auditor.jobs.faults import checkpoint


def check_out_dir(out: Path, names: Iterable[str]) -> None:
    """Refuse an ``--out`` that cannot take a run's outputs, before anything is loaded or stored."""
    if out.exists() and not out.is_dir():
        raise AuditInputError(f"--out {out} 是已有的文件，不是目录 (is a file, not a folder)")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in set(names))
        if foreign:
            raise AuditInputError(f"--out {out} 含有非审计输出的文件（{'、'.join(foreign[:3])}），"
                                  "输出会整体替换该目录，请另选目录 (folder holds other files; choose another)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditInputError(f"--out {out} 的上级目录无法创建 (cannot create parent folder): "
                              f"{exc.strerror or exc}") from None
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise AuditInputError(f"--out {out} 的上级目录不可写 (parent folder not writable)")


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep(out: Path) -> None:
    """Remove hidden folders left beside ``out`` by publishes whose process is gone."""
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(?:writing|old)-(\d+)-[0-9a-f]+")
    for p in out.parent.iterdir():
        m = pattern.fullmatch(p.name)
        if m and int(m.group(1)) != os.getpid() and not process_alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A fresh folder to write the outputs into; on leaving the block it replaces ``out`` (on error: removed)."""
    _sweep(out)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    stage = out.parent / f".{out.name}.writing-{tag}"
    stage.mkdir(mode=0o700)  # the outputs hold personal data: owner-only, as their files
    stage.chmod(0o700)  # whatever the umask
    try:
        yield stage
        checkpoint("publish")
        if out.exists():
            aside = out.parent / f".{out.name}.old-{tag}"
            out.rename(aside)
            try:
                stage.rename(out)
            except BaseException:
                aside.rename(out)
                raise
            shutil.rmtree(aside, ignore_errors=True)
        else:
            stage.rename(out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
