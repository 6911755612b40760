"""Tables kept on disk while an audit runs (the streaming, out-of-core path of the loader).

A streamed table's accepted rows are written as Parquet into an owner-only (0700) temporary
folder and read back only when a rule asks for them; the folder and its files (personal data)
are deleted when the tables are no longer referenced.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import polars as pl


class SpilledTables(Mapping[str, pl.DataFrame]):
    """Table name -> frame: small tables held in memory, streamed ones read from the spill folder
    on each access (``AuditContext`` keeps what a rule family reads until the family ends)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="auditor-spill-"))  # mode 0700
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.folder, True)
        self._tables: dict[str, pl.DataFrame | list[Path]] = {}

    def put(self, name: str, frame: pl.DataFrame) -> None:
        self._tables[name] = frame

    def new_part(self, name: str) -> Path:
        """The path of the next part file of the streamed table ``name`` (read in order of creation)."""
        parts = self._tables.setdefault(name, [])
        assert isinstance(parts, list), f"{name} is held in memory"
        parts.append(self.folder / f"{name}.{len(parts)}.parquet")
        return parts[-1]

    def arrange(self, names: Sequence[str]) -> None:
        """Iterate over the tables in the order of ``names`` (those it leaves out last)."""
        first = {n: self._tables[n] for n in names if n in self._tables}
        self._tables = first | self._tables

    def on_disk(self, name: str) -> bool:
        return isinstance(self._tables.get(name), list)

    def scan(self, name: str) -> pl.LazyFrame:
        """The table as a lazy scan (projection and filters read only what they need from disk)."""
        held = self._tables[name]
        return pl.scan_parquet(held) if isinstance(held, list) else held.lazy()

    def __contains__(self, name: object) -> bool:
        """Whether table ``name`` was loaded (``Mapping``'s default would read a streamed table whole)."""
        return name in self._tables

    def __getitem__(self, name: str) -> pl.DataFrame:
        held = self._tables[name]
        return pl.read_parquet(held) if isinstance(held, list) else held

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def close(self) -> None:
        """Delete the spill folder now (else when the tables are garbage-collected)."""
        self._finalizer()
