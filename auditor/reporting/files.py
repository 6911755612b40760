"""The plain output files of ``outputs.md``: findings.csv, quarantine.csv, run.json, sample.csv
(sanitised, UTF-8 with BOM, readable by their owner only)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from auditor.core.cells import write_safe_csv
from auditor.core.money import yuan
from auditor.core.private import write_private_text
from auditor.engine.registry import FINDING_COLUMNS

CSV_COLUMNS = [c if c != "amount_fen" else "amount" for c in FINDING_COLUMNS]


def findings_csv_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Findings in the column order and forms of ``findings.csv`` (amount in yuan)."""
    return frame.with_columns(amount=yuan(pl.col("amount_fen"))).select(CSV_COLUMNS)


def write_csv(frame: pl.DataFrame, path: Path, keep: tuple[str, ...] = ("amount",)) -> None:
    """A CSV for people (``auditor.core.cells``): text sanitised except the amount columns ``keep``,
    UTF-8 with BOM, owner-only."""
    write_safe_csv(frame, path, keep)


def write_json(data: dict, path: Path) -> None:
    write_private_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=str))
