"""Exports laid out as government systems and clerks write them (issue #16) load like the plain drop.

A small demo drop is the plain layout; each test rewrites one table in a clerk's layout
(title and 填报 lines, two-row merged headers, header cells with line breaks and spaces,
合计/小计 rows and 制表人/审核人/备注 lines, blank edge rows and columns, one sheet per street)
and checks the same accepted rows, the same quarantined values and the same findings, with
what was skipped counted.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook, load_workbook

from auditor.cli.main import main
from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.demo import generate
from auditor.demo.write import table_frame
from auditor.engine.context import AuditContext
from auditor.engine.runner import run_rules
from auditor.ingest.loader import load_drop
from auditor.ingest.schema import TABLES
from auditor.jobs.monthly import run_audit
from auditor.reporting.files import findings_csv_frame
from tests.rulecases import person
from tests.test_loader import write_minimal

PROFILE = load_profile(None)
MONTH = "2026-10"
TITLE = "长宁区社会救助资金发放明细表（2026年10月）"
A, B = person("@A"), person("@B")


@dataclass
class Written:
    """What a layout writer put around the data (the counts the loader must report)."""
    before_header: int
    totals: int
    notes: int
    blank: int
    sheets: list[str]


def _findings(drop_dir: Path) -> tuple[pl.DataFrame, object]:
    drop = load_drop(drop_dir, PROFILE)
    frame, _ = run_rules(AuditContext(month=MONTH, profile=PROFILE, drop=drop), None)
    return findings_csv_frame(frame).sort("finding_id"), drop


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The plain demo drop, its district and what the rules find on it."""
    base = tmp_path_factory.mktemp("plain")
    district = generate(base / "drop", month=MONTH, n_cases=150)
    findings, drop = _findings(base / "drop")
    assert findings.height > 0 and drop.quarantine.height > 0  # the comparison below means something
    return district, base / "drop", findings, drop


def _split_label(table: str) -> tuple[int, str, str]:
    """(position, parent, label under it) of the resident-id column: 领款人身份证号 -> 领款人信息 / 身份证号."""
    pos, col = next((i, c) for i, c in enumerate(TABLES[table].columns) if c.kind == "person_id")
    who = col.label.removesuffix("身份证号")
    return pos, f"{who}信息", "身份证号"


def _spaced(label: str) -> str:
    """A header cell as clerks type it: spaces and a line break inside."""
    return label if len(label) < 4 else f"{label[:2]} {label[2]}\n{label[3:]}"


def _total_row(table: str, label: str) -> list[str]:
    """A 合计-style row: the label in the first column, a sum under the amount, the rest empty."""
    columns = TABLES[table].columns
    row = [""] * len(columns)
    row[0], row[next(i for i, c in enumerate(columns) if c.kind == "amount")] = label, "3600.00"
    return row


def _csv(records: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(records)
    return buf.getvalue()


def write_csv_titled_gbk(frame: pl.DataFrame, table: str, path: Path) -> Written:
    """Title, 填报单位 line, header, rows, 合计 row, 制表人/审核人 and 备注 lines; GBK."""
    rows = [list(r) for r in frame.iter_rows()]
    records = [[TITLE], ["填报单位：长宁区民政局", "", "", "单位：元"], frame.columns, *rows,
               _total_row(table, "合计"), ["制表人：张三", "", "审核人：李四"], ["备注：本表由业务系统导出"]]
    path.with_suffix(".csv").write_bytes(_csv(records).encode("gbk"))
    return Written(2, 1, 2, 0, [])


def write_csv_two_row_header(frame: pl.DataFrame, table: str, path: Path) -> Written:
    """UTF-8: a blank first line, a parent header over 身份证号 (labels merged down elsewhere), spaced and
    broken header cells, a blank leading column and trailing empty columns, a blank row and a 小计 row
    inside the data, 合计, a blank line and an 审核人 line after it."""
    pos, parent, child = _split_label(table)
    upper = [_spaced(c) for c in frame.columns]
    lower = [""] * frame.width
    upper[pos], upper[pos + 1] = parent, ""
    lower[pos], lower[pos + 1] = child, frame.columns[pos + 1]
    rows = [list(r) for r in frame.iter_rows()]
    body = [*rows[:3], [""] * frame.width, *rows[3:5], _total_row(table, "小计"), *rows[5:],
            _total_row(table, "合 计"), [""] * frame.width]
    records = [[""] + r + ["", ""] for r in (upper, lower, *body)] + [["审核人：李四"]]
    path.with_suffix(".csv").write_text("\n" + _csv(records), encoding="utf-8")
    return Written(1, 2, 1, 2, [])


def write_xlsx_clerk(frame: pl.DataFrame, table: str, path: Path) -> Written:
    """From B2: merged title, 填报 line, two-row merged header with a line break in a label, a blank row
    in the data, a merged 合计 row, 制表人/审核人 and 备注 lines; column A and row 1 blank."""
    pos, parent, child = _split_label(table)
    wb = Workbook()
    ws = wb.active
    ws.title = table
    last = frame.width + 1  # column of the last label (data starts in column B)
    ws.cell(2, 2, TITLE)
    ws.merge_cells(start_row=2, start_column=2, end_row=2, end_column=last)
    ws.cell(3, 2, "填报单位：长宁区民政局")
    ws.cell(3, last, "单位：元")
    for j, label in enumerate(frame.columns):
        col = j + 2
        if j == pos:
            ws.cell(4, col, parent)
            ws.merge_cells(start_row=4, start_column=col, end_row=4, end_column=col + 1)
            ws.cell(5, col, child)
        elif j == pos + 1:
            ws.cell(5, col, label)
        else:
            ws.cell(4, col, label.replace("金额", "\n金额"))
            ws.merge_cells(start_row=4, start_column=col, end_row=5, end_column=col)
    rows = [list(r) for r in frame.iter_rows()]
    r = 6
    for i, row in enumerate(rows):
        if i == 4:
            r += 1  # a blank row inside the data
        for j, v in enumerate(row):
            if v != "":
                ws.cell(r, j + 2, v)
        r += 1
    total = _total_row(table, "合计")
    ws.cell(r, 2, "合计")
    ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=4)
    ws.cell(r, total.index("3600.00") + 2, "3600.00")
    ws.cell(r + 1, 2, "制表人：张三")
    ws.cell(r + 1, 6, "审核人：李四")
    ws.cell(r + 2, 2, "备注：本表由业务系统导出")
    wb.save(path.with_suffix(".xlsx"))
    return Written(3, 1, 2, 1, [table])


def write_xlsx_per_street(frame: pl.DataFrame, table: str, path: Path) -> Written:
    """A cover sheet, then one sheet per street (title, header, its rows, 小计); no sheet named after the table."""
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["本工作簿按街道分表导出"])
    street = frame.columns.index(TABLES[table].column("street").label)
    names = []
    for name in sorted({r[street] for r in frame.iter_rows()}):
        ws = wb.create_sheet(name)
        names.append(name)
        ws.append([f"{name}{TITLE}"])
        ws.append(frame.columns)
        for row in frame.iter_rows():
            if row[street] == name:
                ws.append([v if v != "" else None for v in row])
        ws.append(_total_row(table, "小计"))
    wb.save(path.with_suffix(".xlsx"))
    return Written(len(names), len(names), 0, 0, names)


LAYOUTS = [write_csv_titled_gbk, write_csv_two_row_header, write_xlsx_clerk, write_xlsx_per_street]


def _relayout(plain, tmp: Path, table: str, writer) -> tuple[Path, Written]:
    district, plain_dir, _, _ = plain
    drop = tmp / "drop"
    shutil.copytree(plain_dir, drop)
    for old in drop.glob(f"{table}.*"):
        old.unlink()
    return drop, writer(table_frame(district, table, "zh"), table, drop / table)


def _row_text(path: Path, location: str) -> str:
    """The text of the row ``location`` points at, as a person opening the file sees it."""
    where, _, rest = location.rpartition(" ")
    n = int(rest.removeprefix("第").removesuffix("行"))
    if path.suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("gbk")
        return text.split("\n")[n - 1]
    ws = load_workbook(path, read_only=True)[where]
    row = next(ws.iter_rows(min_row=n, max_row=n, values_only=True))
    return " ".join(str(v) for v in row if v is not None)


@pytest.mark.parametrize("table", ["payments", "ledger"])
@pytest.mark.parametrize("writer", LAYOUTS, ids=lambda w: w.__name__.removeprefix("write_"))
def test_layout_gives_the_plain_rows_quarantine_and_findings(plain, tmp_path, table, writer):
    _, _, plain_findings, plain_drop = plain
    drop_dir, written = _relayout(plain, tmp_path, table, writer)
    findings, drop = _findings(drop_dir)

    key = TABLES[table].key
    assert drop.tables[table].sort(key).equals(plain_drop.tables[table].sort(key))
    stats, before = drop.stats[table], plain_drop.stats[table]
    assert (stats.read, stats.accepted, stats.quarantined) == (before.read, before.accepted, before.quarantined)
    assert (stats.skipped_before_header, stats.skipped_totals, stats.skipped_notes, stats.skipped_blank,
            stats.sheets) == (written.before_header, written.totals, written.notes, written.blank, written.sheets)

    same = ["table", "column", "value", "reason"]
    q = drop.quarantine.filter(pl.col("table") == table)
    assert q.select(same).sort(same).equals(plain_drop.quarantine.filter(pl.col("table") == table)
                                            .select(same).sort(same))
    file = next(drop_dir.glob(f"{table}.*"))
    for row in q.iter_rows(named=True):  # the location is the row a person sees in the file
        assert row["value"] in _row_text(file, row["location"]), row

    assert findings.equals(plain_findings)


def test_skipped_lines_are_in_run_json(plain, tmp_path):
    drop_dir, written = _relayout(plain, tmp_path, "payments", write_xlsx_clerk)
    result = run_audit(month=MONTH, data_dir=drop_dir, out_dir=tmp_path / "out", profile=PROFILE,
                       db_url=f"sqlite:///{tmp_path / 'a.db'}")
    summary = json.loads((result.out_dir / "run.json").read_text(encoding="utf-8"))
    t = summary["tables"]["payments"]
    assert (t["skipped_before_header"], t["skipped_totals"], t["skipped_notes"], t["skipped_blank"]) == (
        written.before_header, written.totals, written.notes, written.blank)
    assert t["read"] == t["accepted"] + t["quarantined"]
    assert summary["tables"]["ledger"]["skipped_before_header"] == 0  # the plain CSV beside it


# --- a column twice (issue #15 a) -------------------------------------------------------------


def test_xlsx_with_a_column_twice_is_unusable_naming_file_and_column(tmp_path):
    write_minimal(tmp_path)
    (tmp_path / "payments.csv").unlink()
    wb = Workbook()
    ws = wb.active
    ws.append(["发放编号", "案件编号", "领款人身份证号", "救助类型", "所属月份", "发放金额", "发放金额", "银行账号", "街镇"])
    ws.append(["P1", "C1", A, "低保", MONTH, "1200.00", "1300.00", "6222000000000001", "华阳路街道"])
    wb.save(tmp_path / "payments.xlsx")
    with pytest.raises(AuditInputError) as err:
        load_drop(tmp_path, PROFILE)
    assert "payments.xlsx" in str(err.value) and "amount" in str(err.value) and "发放金额" in str(err.value)


def test_csv_with_a_column_under_both_names_exits_2(tmp_path, capsys):
    write_minimal(tmp_path, **{
        "ledger.csv": "txn_id,payee_id,program,month,amount,支付金额,bank_account,paid_on,street,status\n"
                      f"T1,{A},dibao,{MONTH},1200.00,1.00,6222000000000001,{MONTH}-05,华阳路街道,paid\n",
    })
    code = main(["run", "--month", MONTH, "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--db", f"sqlite:///{tmp_path / 'a.db'}"])
    err = capsys.readouterr().err
    assert code == 2
    assert "ledger.csv" in err and "amount" in err and "Traceback" not in err


# --- rows a CSV parser refuses (issue #15 b) --------------------------------------------------


def test_ragged_and_unclosed_quote_rows_are_quarantined_and_the_rest_read(tmp_path):
    header = "payment_id,case_id,payee_id,program,month,amount,bank_account,street"
    lines = [
        header,
        f"P1,C1,{A},dibao,{MONTH},1200.00,6222000000000001,华阳路街道",
        f"P2,C1,{B},dibao,{MONTH},1200.00,6222000000000001,华阳路街道,{A}",  # an extra field
        f'P3,C1,"{A},dibao,{MONTH},1200.00,6222000000000001,华阳路街道',  # a quote never closed
        f"P4,C1,{A},dibao,{MONTH},1200.00,6222000000000001,华阳路街道,,",  # empty extras: Excel padding
        f'P5,C1,{A},dibao,{MONTH},"1,200.00",6222000000000001,"华阳路\n街道"',  # a quoted line break
        f"P6,C1,{A},dibao,{MONTH},1200.00,6222000000000001,华阳路街道",
    ]
    write_minimal(tmp_path, **{"payments.csv": "\n".join(lines) + "\n"})
    drop = load_drop(tmp_path, PROFILE)
    assert sorted(drop.tables["payments"]["payment_id"].to_list()) == ["P1", "P4", "P5", "P6"]
    q = drop.quarantine.filter(pl.col("table") == "payments")
    assert q.select("source_row", "location").rows() == [(2, "第3行"), (3, "第4行")]
    assert "字段多于表头" in q["reason"][0] and "引号" in q["reason"][1]
    assert q["value"].null_count() == 2  # the raw row (resident ids) is not copied anywhere
    s = drop.stats["payments"]
    assert (s.read, s.accepted, s.quarantined) == (6, 4, 2)


def test_a_csv_that_cannot_be_read_is_named_without_its_rows(tmp_path):
    write_minimal(tmp_path)
    (tmp_path / "members.csv").write_bytes(f"case_id,person_id,name\nC1,{A},张三\n".encode() + b"\xff\xfe")
    with pytest.raises(AuditInputError) as err:
        load_drop(tmp_path, PROFILE)
    assert "members.csv" in str(err.value) and A not in str(err.value)


# --- numbers Excel mangled --------------------------------------------------------------------


def test_ids_and_accounts_stored_as_numbers_are_quarantined_with_a_plain_reason(tmp_path):
    assert A.isdigit()  # stored as an exact int cell below, and still lost
    write_minimal(tmp_path)
    (tmp_path / "payments.csv").unlink()
    wb = Workbook()
    ws = wb.active
    ws.append(["发放编号", "案件编号", "领款人身份证号", "救助类型", "所属月份", "发放金额", "银行账号", "街镇"])
    ws.append(["P1", "C1", float(A[:6] + "0" * 12), "低保", MONTH, "1200.00", "6222000000000001", "华阳路街道"])
    ws.append(["P2", "C1", int(A), "低保", MONTH, "1200.00", "6222000000000001", "华阳路街道"])
    ws.append(["P3", "C1", "'" + A, "低保", MONTH, "1200.00", "'6222000000000001", "华阳路街道"])
    ws.append(["P4", "C1", A, "低保", MONTH, "1200.00", 6222000000000001, "华阳路街道"])
    ws.append(["P5", "C1", A, "低保", MONTH, "1200.00", 622200000000001, "华阳路街道"])
    wb.save(tmp_path / "payments.xlsx")
    (tmp_path / "members.csv").write_text(f"case_id,person_id,name\nC1,3.10105E+17,张三\nC1,{A},李四\n",
                                          encoding="utf-8")
    drop = load_drop(tmp_path, PROFILE)
    p = drop.tables["payments"].sort("payment_id")
    assert p["payment_id"].to_list() == ["P3", "P5"]
    assert p["payee_id"].to_list() == [A, A] and p["bank_account"].to_list() == ["6222000000000001", "622200000000001"]
    q = drop.quarantine.sort("table", "source_row")
    lost_id = "身份证号被存为数字，末位已丢失，请将该列设为文本后重新导出"
    lost_account = "银行账号被存为数字，末位已丢失，请将该列设为文本后重新导出"
    rows = q.select("table", "source_row", "column", "reason").rows()
    expected = [("members", 1, "person_id", lost_id), ("payments", 1, "payee_id", lost_id),
                ("payments", 2, "payee_id", lost_id), ("payments", 4, "bank_account", lost_account)]
    assert rows == expected


def test_header_is_looked_for_in_the_first_rows_only(tmp_path):
    notes = "".join(f"说明第{i}行\n" for i in range(40))
    write_minimal(tmp_path, **{"members.csv": notes + f"case_id,person_id,name\nC1,{A},张三\n"})
    with pytest.raises(AuditInputError, match="缺少必需列 case_id"):
        load_drop(tmp_path, PROFILE)


def test_value_beyond_the_header_is_quarantined_and_line_numbers_count_line_breaks_in_cells(tmp_path):
    lines = [
        "case_id,person_id,name,,",  # the header padded with empty fields, as Excel writes it
        f'C1,{A},"张\n三",,',  # a quoted line break: this record takes lines 2-3
        f"C2,{A},李四,,{B}",  # a value in a column without a header
        "C3,bad,王五,,",
    ]
    write_minimal(tmp_path, **{"members.csv": "\n".join(lines) + "\n"})
    drop = load_drop(tmp_path, PROFILE)
    assert drop.tables["members"]["name"].to_list() == ["张 三"]  # a line break in free text reads as a space (data contract)
    q = drop.quarantine.filter(pl.col("table") == "members")
    assert q.select("source_row", "column", "location").rows() == [(2, None, "第4行"), (3, "person_id", "第5行")]
    assert B not in " ".join(str(v) for v in q.row(0))


def test_screening_a_titled_payment_file_holds_the_bad_row_itself(plain, tmp_path):
    from auditor.jobs.screen import load_payments

    drop_dir, _ = _relayout(plain, tmp_path, "payments", write_csv_titled_gbk)
    accepted, invalid = load_payments(drop_dir / "payments.csv", PROFILE)
    plain_invalid = load_payments(plain[1] / "payments.xlsx", PROFILE)[1]
    assert accepted.height == plain[3].stats["payments"].accepted
    assert invalid["payment_id"].to_list() == plain_invalid["payment_id"].to_list() != []
