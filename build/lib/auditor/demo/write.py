"""Write a demo district as a data drop in the mixed formats real exports come in.

cases: GBK CSV with Chinese headers (业务系统 export); members: UTF-8 with BOM;
payments: XLSX with Chinese headers; ledger: UTF-8 CSV with ``1,234.50`` and
``2026年10月05日`` forms; allocations: XLSX; accounts: Parquet; staff: GB18030
CSV with Chinese headers; other tables: UTF-8 CSV. A few bad rows are added
(``District.junk``) so the drop exercises quarantine.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from auditor.demo.district import District, yuan_text
from auditor.ingest.schema import TABLES

FORMATS = {"cases": ("csv", "gbk", "zh"), "members": ("csv", "utf-8-sig", "en"),
           "payments": ("xlsx", None, "zh"), "ledger": ("csv", "utf-8", "en"),
           "allocations": ("xlsx", None, "en"), "accounts": ("parquet", None, "en"),
           "staff": ("csv", "gb18030", "zh")}


def _text(kind: str, value, i: int) -> str:
    """A value as an export would write it; ``i`` varies the accepted spellings."""
    if value is None:
        return ""
    if kind == "amount":
        text = yuan_text(value)
        return {0: text, 1: f"{int(text.split('.')[0]):,}.{text.split('.')[1]}", 2: f"{text}元"}[i % 3]
    if kind == "date" and isinstance(value, date):
        return {0: value.isoformat(), 1: f"{value.year}年{value.month:02d}月{value.day:02d}日",
                2: value.strftime("%Y/%m/%d")}[i % 3]
    if kind == "bool":
        return "是" if value else "否"
    return str(value)


def table_frame(d: District, name: str, headers: str = "en") -> pl.DataFrame:
    """All rows of ``name`` as text, in contract column order, plus its junk rows."""
    table = TABLES[name]
    rows = d.tables.get(name, [])
    data = {c.name: [_text(c.kind, r.get(c.name), i) for i, r in enumerate(rows)] for c in table.columns}
    frame = pl.DataFrame(data, schema={c.name: pl.String for c in table.columns})
    junk = d.junk.get(name, [])
    if junk:
        frame = pl.concat([frame, pl.DataFrame([{c.name: j.get(c.name, "") for c in table.columns} for j in junk],
                                               schema=frame.schema)])
    if headers == "zh":
        frame = frame.rename({c.name: c.label for c in table.columns})
    return frame


def write_drop(d: District, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file():
            old.unlink()
    for name in TABLES:
        if name not in d.tables:
            continue
        fmt, encoding, headers = FORMATS.get(name, ("csv", "utf-8", "en"))
        frame = table_frame(d, name, headers)
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            path.write_bytes(frame.write_csv().encode(encoding))
        elif fmt == "parquet":
            frame.write_parquet(path)
        else:
            _write_xlsx(frame, path, name)


def _write_xlsx(frame: pl.DataFrame, path: Path, sheet: str) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(frame.columns)
    for row in frame.iter_rows():
        ws.append([v if v != "" else None for v in row])
    wb.save(path)
