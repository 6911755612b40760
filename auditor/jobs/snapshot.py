"""Each run keeps its normalised data: ``<snapshot root>/<run_id>/`` holds one Parquet file per loaded
table, ``quarantine.parquet``, the people index folder ``index`` (``auditor.jobs.people_index``) and
``manifest.json`` (run id, month, profile, each input file's name,
size and sha256, the loader's ``TableStats``), owner-only.

The root is ``Profile.snapshot_dir``, else a ``snapshots`` folder beside the SQLite store file, else
(PostgreSQL) ``out/snapshots/<store key>`` under the working directory of the machine running the auditor,
the key a hash of the store's URL without its password (run ids restart in every store). A
snapshot is written into a hidden sibling folder and renamed into place. A rerun of a month whose
input files and profile are unchanged loads the snapshot instead of re-validating the exports.

A few-valued text column held as a categorical (``auditor.ingest.compact``) is written as it is held: a
dictionary-encoded Parquet text column (every Parquet reader reads text; polars reads it back as a
categorical, so a reader of snapshot tables takes them through ``as_text`` or casts the columns it uses).
Converting those columns to plain strings first, only for the writer to dictionary-encode them again, cost
about a fifth of the snapshot's CPU (city: 2.28 -> 1.81 s).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from concurrent.futures import Future
from dataclasses import asdict
from itertools import chain
from pathlib import Path
from typing import Any, Literal

import polars as pl
from sqlalchemy import make_url

from auditor.core.config import Profile
from auditor.core.periods import month_add
from auditor.core.private import private_dir, private_open, write_private_text
from auditor.ingest.compact import compact
from auditor.ingest.loader import Drop, TableStats, find_table_file, write_part
from auditor.ingest.schema import TABLES
from auditor.ingest.spill import SpilledTables
from auditor.jobs.people_index import INDEX_DIR, INLINE_ROWS, index_later, write_index

SERVER_DEFAULT = Path("out/snapshots")  # a store that is not a SQLite file (PostgreSQL)
MANIFEST = "manifest.json"
# lz4: about 0.7 s less CPU than polars' default zstd to write the city drop (2.4 s instead of 3.1 s) and
# faster to read back, for files about twice the size (188 MB instead of 89 MB); statistics kept
COMPRESSION: Literal["lz4"] = "lz4"


def snapshot_root(profile: Profile, db_url: str | None) -> Path:
    """Where this profile's runs keep their snapshots (see the module docstring)."""
    if profile.snapshot_dir:
        return Path(profile.snapshot_dir)
    url = make_url(db_url or "sqlite:///out/auditor.db")
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "snapshots"
    # Run ids restart in every store: one folder per store (server, database, options such as the schema).
    store = repr((url.drivername, url.username, url.host, url.port, url.database, sorted(url.query.items())))
    return SERVER_DEFAULT / hashlib.sha256(store.encode()).hexdigest()[:16]


def profile_hash(profile: Profile) -> str:
    """A hash of every profile setting (normalisation depends on some of them)."""
    return hashlib.sha256(profile.model_dump_json().encode()).hexdigest()


def input_files(data_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Per table present in the drop: its export file's name, size and sha256 (nothing for a folder that
    does not exist or a file that cannot be read: no snapshot matches, and the loader says what is wrong)."""
    directory = Path(data_dir)
    out: dict[str, dict[str, Any]] = {}
    if not directory.is_dir():
        return out
    for name, table in TABLES.items():
        path = find_table_file(directory, table)
        if path is not None:
            try:
                with path.open("rb") as f:
                    digest = hashlib.file_digest(f, "sha256").hexdigest()
            except OSError:  # unreadable: no snapshot can match; the loader reports the file
                return {}
            out[name] = {"name": path.name, "size": path.stat().st_size, "sha256": digest}
    return out


def could_match(root: Path, *, month: str, profile: Profile, data_dir: str | Path) -> bool:
    """Whether a snapshot of ``month`` and ``profile`` lists the drop's files with their names and sizes:
    only then can ``matching_snapshot`` find one, so only then need the files be hashed before loading."""
    directory = Path(data_dir)
    files: dict[str, tuple[str, int]] = {}
    for name, table in TABLES.items() if directory.is_dir() else ():
        path = find_table_file(directory, table)
        if path is not None:
            try:
                files[name] = (path.name, path.stat().st_size)
            except OSError:
                return True  # the hashes decide (input_files)
    wanted = profile_hash(profile)
    return any(m.get("month") == month and m.get("profile_sha256") == wanted
               and {n: (f.get("name"), f.get("size")) for n, f in (m.get("files") or {}).items()} == files
               for _, m in _manifests(root))


def _manifests(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if folder.is_dir() and folder.name.isdigit() and (folder / MANIFEST).is_file():
            try:
                found.append((folder, json.loads((folder / MANIFEST).read_text("utf-8"))))
            except (OSError, ValueError):
                continue  # unreadable manifest: not a usable snapshot
    return sorted(found, key=lambda fm: int(fm[0].name))


def write_snapshot(root: Path, *, run_id: int | Future[int], month: str, profile: Profile, drop: Drop,
                   inputs: dict[str, dict[str, Any]]) -> Path:
    """Write run ``run_id``'s snapshot aside, then rename it to ``root/<run_id>`` (replacing one there).

    ``run_id`` may be a future (the run is stored while the tables are written): it is waited for once
    the tables are written, and its exception leaves nothing behind.
    """
    private_dir(root)
    stage = root / f".run.writing-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    private_dir(stage)
    try:
        # One table at a time, through polars' streaming sink: a streamed (spilled) table is copied from
        # disk a slice at a time, never read whole.
        tables = drop.tables
        lazies = ((name, tables.scan(name) if isinstance(tables, SpilledTables) else tables[name].lazy())
                  for name in tables)
        for name, frame in chain(lazies, [("quarantine", drop.quarantine.lazy())]):
            with private_open(stage / f"{name}.parquet", "wb") as f:
                frame.sink_parquet(f, compression=COMPRESSION)
        # the loader's counts: counting rows of a spilled table would read it whole from disk
        rows = sum(drop.stats[n].accepted if n in drop.stats else tables[n].height for n in tables)
        if rows <= INLINE_ROWS:
            write_index(drop.tables, stage / INDEX_DIR, month)
        number = run_id.result() if isinstance(run_id, Future) else run_id
        final = root / str(number)
        manifest = {"run_id": number, "month": month, "profile": profile.name,
                    "profile_sha256": profile_hash(profile), "files": inputs,
                    "tables": {name: asdict(s) for name, s in drop.stats.items()}}
        write_private_text(stage / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        if final.exists():
            shutil.rmtree(final)
        stage.rename(final)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if rows > INLINE_ROWS:
        index_later(final)
    return final


def matching_snapshot(root: Path, *, month: str, profile: Profile,
                      inputs: dict[str, dict[str, Any]]) -> Path | None:
    """The latest snapshot of ``month`` made from the same files (names, sizes, sha256) and profile."""
    wanted = profile_hash(profile)
    hits = [folder for folder, m in _manifests(root)
            if m.get("month") == month and m.get("profile_sha256") == wanted and m.get("files") == inputs]
    return hits[-1] if hits else None


def load_snapshot(folder: Path, data_dir: str | Path, stream_rows: int | None = None) -> Drop:
    """The ``Drop`` a snapshot holds (tables, quarantine and the loader's stats as first loaded).

    ``stream_rows``: as for the loader, a table of more rows is kept on disk (``SpilledTables``), copied
    from the snapshot ``stream_rows`` rows at a time, never held whole.
    """
    manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    stats = {name: TableStats(**s) for name, s in manifest["tables"].items()}
    quarantine = pl.read_parquet(folder / "quarantine.parquet")
    if stream_rows is None or all(s.accepted <= stream_rows for s in stats.values()):
        tables = {name: compact(name, pl.read_parquet(folder / f"{name}.parquet")) for name in stats}
        return Drop(Path(data_dir), tables, stats, quarantine)
    spilled = SpilledTables()
    for name, s in stats.items():
        path = folder / f"{name}.parquet"
        if s.accepted <= stream_rows:
            spilled.put(name, compact(name, pl.read_parquet(path)))
            continue
        for offset in range(0, s.accepted, stream_rows):
            write_part(spilled.new_part(name), pl.scan_parquet(path).slice(offset, stream_rows).collect(), name,
                       compact=True)
    return Drop(Path(data_dir), spilled, stats, quarantine)


def prune_snapshots(root: Path, month: str, keep_months: int | None) -> list[int]:
    """Delete snapshots whose month is more than ``keep_months`` before ``month``; their run ids."""
    if keep_months is None:
        return []
    oldest = month_add(month, -keep_months)
    deleted = []
    for folder, manifest in _manifests(root):
        if str(manifest.get("month", "9999-99")) < oldest:
            shutil.rmtree(folder)
            deleted.append(int(folder.name))
    return deleted


def latest_by_month(root: Path) -> dict[str, Path]:
    """The latest snapshot folder of each month under ``root`` (reruns replace earlier runs of a month)."""
    return {str(m["month"]): folder for folder, m in _manifests(root) if m.get("month")}
