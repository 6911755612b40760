"""一处失信、他处受限: the list of active dishonesty records to publish to the joint-meeting member units.

Records whose restriction covers M (recorded on or before the last day of M,
restricted_until empty or on or after the first day of M), with recovery status
(defrauded, recovered, outstanding), as CSV and XLSX.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl

from auditor.core.cells import write_safe_csv, xlsx_row
from auditor.core.money import yuan
from auditor.core.periods import month_bounds, restriction_covers
from auditor.core.private import make_private

COLUMNS = [("record_id", "记录编号"), ("person_id", "身份证号"), ("name", "姓名"), ("reason", "失信原因"),
           ("unit", "认定单位"), ("recorded_on", "认定日期"), ("restricted_until", "限制截止日期"),
           ("defrauded", "骗取金额(元)"), ("recovered", "已追回金额(元)"), ("outstanding", "未追回金额(元)"),
           ("recovery", "追回状态"), ("reported_on", "报送联席会议办公室日期")]
AMOUNTS = ("defrauded", "recovered", "outstanding")


def active_records(records: pl.DataFrame, month: str) -> pl.DataFrame:
    """Records whose restriction covers ``month``, with yuan texts and recovery status."""
    first, last = month_bounds(month)
    recovered = pl.col("amount_recovered").fill_null(0)
    outstanding = pl.max_horizontal(pl.col("amount_defrauded").fill_null(0) - recovered, pl.lit(0))
    return (records.filter(restriction_covers(first, last))
            .sort("recorded_on", "record_id")
            .with_columns(defrauded=yuan(pl.col("amount_defrauded").fill_null(0)), recovered=yuan(recovered),
                          outstanding=yuan(outstanding),
                          recovery=pl.when(pl.col("amount_defrauded").fill_null(0) == 0).then(pl.lit("无骗取金额"))
                          .when(outstanding == 0).then(pl.lit("已全部追回"))
                          .when(recovered > 0).then(pl.lit("部分追回")).otherwise(pl.lit("未追回")))
            .select([pl.col(c).cast(pl.String).alias(label) for c, label in COLUMNS]))


def write_xlsx(table: pl.DataFrame, path: Path, month: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "失信名单"
    ws.append([f"{month} 社会救助失信人员名单（一处失信、他处受限，报联席会议成员单位）"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(table.columns)
    money = {dict(COLUMNS)[c] for c in AMOUNTS}
    for row in table.iter_rows(named=True):
        xlsx_row(ws, [Decimal(v) if k in money and v is not None else v for k, v in row.items()])
        for i, k in enumerate(table.columns, start=1):
            if k in money:
                ws.cell(ws.max_row, i).number_format = "#,##0.00"
    for i, width in enumerate((12, 20, 8, 24, 14, 12, 12, 14, 14, 14, 10, 14), start=1):
        ws.column_dimensions[ws.cell(2, i).column_letter].width = width
    ws.freeze_panes = "A3"
    wb.save(path)
    make_private(path)


def write_csv(table: pl.DataFrame, path: Path) -> None:
    """UTF-8 with BOM, so that Excel on a Chinese desktop shows Chinese; text sanitised, owner-only."""
    write_safe_csv(table, path, keep=[dict(COLUMNS)[c] for c in AMOUNTS])
