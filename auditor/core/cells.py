"""The one sanitiser of values written to CSV and XLSX files people open in a spreadsheet.

A text value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read by
Excel or LibreOffice as a formula (formula injection: a name ``=HYPERLINK(...)`` in a drop). In CSV
it is kept as readable text behind a single quote (``'=1+1``); in XLSX it is stored as a string cell,
never a formula. Only text columns are sanitised: amounts (``-12.00``) and numbers stay as they are.
Every CSV is written UTF-8 with BOM, so Excel on a Chinese desktop shows Chinese.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet as StreamedSheet

import polars as pl

from auditor.core.private import write_private_bytes

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = r"^[=+\-@\t\r]"
BOM = b"\xef\xbb\xbf"


def safe_cell(value: Any) -> Any:
    """``'=1+1`` for a text value a spreadsheet would read as a formula; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pl.DataFrame, keep: Iterable[str] = ()) -> pl.DataFrame:
    """``frame`` with every text column except ``keep`` (amount columns) sanitised (``safe_cell``)."""
    kept = set(keep)
    cols = [c for c, t in frame.schema.items() if t == pl.String and c not in kept]
    return frame.with_columns([
        pl.when(pl.col(c).str.contains(_PATTERN)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in cols]) if cols else frame


def write_safe_csv(frame: pl.DataFrame, path: str | Path, keep: Iterable[str] = ()) -> Path:
    """A CSV for people: text sanitised, UTF-8 with BOM, readable by its owner only."""
    return write_private_bytes(path, BOM + safe_frame(frame, keep).write_csv().encode("utf-8"))


def xlsx_row(ws: Worksheet, values: list[Any]) -> None:
    """Append ``values`` to an openpyxl sheet with every text cell stored as a string, never a formula."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        xlsx_text(cell)


def xlsx_stream_row(ws: StreamedSheet, row: int, values: list[Any], formats: list[Format | None]) -> None:
    """Write one row (0-based) of an xlsxwriter sheet: text always as a string cell, never a formula;
    numbers (Decimal amounts too) as numbers; an empty cell only when it has a format."""
    for col, (value, fmt) in enumerate(zip(values, formats, strict=True)):
        if value is None or value == "":
            if fmt is not None:
                ws.write_blank(row, col, None, fmt)
        elif isinstance(value, str):
            ws.write_string(row, col, value, fmt)
        else:
            ws.write_number(row, col, float(value), fmt)


def xlsx_text(cell: Cell) -> None:
    """Make a text cell a plain string (openpyxl turns ``=...`` into a formula)."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
        cell.data_type = "s"
