"""Worksheet rows written as XML by polars expressions, spliced into a workbook laid out by xlsxwriter.

xlsxwriter costs about 15 µs of Python per cell; the 问题清单 has 14 cells per finding. Here each
row's ``<row>`` element is one string expression over the frame, in the form xlsxwriter's
constant-memory mode writes: text as an inline string (never a formula, whatever it starts with),
escaped as xlsxwriter escapes it (``&<>``, control characters as ``_xHHHH_``, ``xml:space`` for
edge whitespace, cut at 32,767 UTF-16 units), amounts as numbers, empty cells left out. The
workbook itself (styles, columns, validation, print setup, header rows) is written by xlsxwriter
in memory; ``splice_rows`` copies it to the file with the rows added to the sheets named.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from io import BytesIO
from pathlib import Path

import polars as pl

from auditor.core.money import yuan

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\ufffe": "_xFFFE_", "\uffff": "_xFFFF_"} | {
    chr(c): f"_x{c:04X}_" for c in (*range(0x00, 0x09), *range(0x0B, 0x20))}
# whitespace (Python's \s) left at an edge once control characters are escaped: kept by xml:space
_EDGE = r"[\t\n\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
MAX_CHARS = 32_767  # Excel's limit on a cell's text, in UTF-16 units


def column_letter(col: int) -> str:
    """0 -> ``A``, 25 -> ``Z``, 26 -> ``AA``."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cut(text: str) -> str:
    """``text`` cut to ``MAX_CHARS`` UTF-16 units, a character above U+FFFF never split."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > MAX_CHARS:
            return text[:i]
    return text


def within_limit(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """``frame`` with text longer than a cell holds cut to it (only a column that has such text is touched)."""
    long = [c for c in columns if (frame[c].cast(pl.String).str.len_chars() > MAX_CHARS // 2).any()]
    return frame.with_columns(pl.col(c).map_elements(_cut, return_dtype=pl.String, skip_nulls=True) for c in long)


def text_cell(value: pl.Expr, col: int, row: pl.Expr, style: int) -> pl.Expr:
    """An inline string cell, or ``""`` for a null or empty value."""
    escaped = value.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F${1}").str.replace_many(_ESCAPES)
    preserve = pl.when(value.str.contains(f"^{_EDGE}|{_EDGE}$")).then(pl.lit(' xml:space="preserve"'))
    cell = pl.concat_str(pl.lit(f'<c r="{column_letter(col)}'), row, pl.lit(f'" s="{style}" t="inlineStr"><is><t'),
                         preserve.otherwise(pl.lit("")), pl.lit(">"), escaped, pl.lit("</t></is></c>"))
    return pl.when(value.is_not_null() & (value != "")).then(cell).otherwise(pl.lit(""))


def yuan_cell(fen: pl.Expr, col: int, row: pl.Expr, style: int) -> pl.Expr:
    """A number cell of integer fen in yuan, exact (``123450`` -> ``1234.5``), or ``""`` for null."""
    number = yuan(fen).str.strip_chars_end("0").str.strip_chars_end(".")
    cell = pl.concat_str(pl.lit(f'<c r="{column_letter(col)}'), row, pl.lit(f'" s="{style}"><v>'), number,
                         pl.lit("</v></c>"))
    return pl.when(fen.is_not_null()).then(cell).otherwise(pl.lit(""))


def row_xml(row: pl.Expr, height: pl.Expr, cells: list[pl.Expr]) -> pl.Expr:
    """A ``<row>`` element: 1-based number ``row``, ``height`` in points (15, the default, not written)."""
    custom = pl.when(height != 15).then(pl.concat_str(pl.lit(' ht="'), height.cast(pl.String),
                                                      pl.lit('" customHeight="1"')))
    return pl.concat_str(pl.lit('<row r="'), row, pl.lit('"'), custom.otherwise(pl.lit("")), pl.lit(">"), *cells,
                         pl.lit("</row>"))


def splice_rows(template: BytesIO, path: Path, rows: Iterator[tuple[str, str, str]]) -> None:
    """Write the workbook ``template`` to ``path`` with rows added: for each ``(member, dimension, xml)``
    in member order, the sheet's ``xml`` rows go after its rows and its dimension becomes ``dimension``."""
    pending = next(rows, None)
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if pending is not None and info.filename == pending[0]:
                _, dimension, xml = pending
                head, tail = data.decode("utf-8").split("</sheetData>")
                start = head.index('<dimension ref="')
                end = head.index("/>", start)
                data = f'{head[:start]}<dimension ref="{dimension}"{head[end:]}{xml}</sheetData>{tail}'.encode()
                pending = next(rows, None)
            out.writestr(info, data)
    if pending is not None:
        raise ValueError(f"no sheet {pending[0]} in the workbook")
