"""Find the table inside an export laid out the way business systems and clerks write it.

The header is the first row naming the table's columns within the first ``HEAD_ROWS``
rows (title, unit and 填报 lines above it are skipped and counted); a parent row over the
labels (``领款人信息`` over ``姓名 / 身份证号``) makes a two-row header read as the labels
under it; header cells match with whitespace and line breaks removed. After the header,
blank rows, 合计/小计/总计 rows and 制表人/审核人/备注 lines after the data are skipped and
counted (columnar, polars); blank columns without a header are dropped. A CSV row that
cannot be parsed (more fields than the header, an unclosed quote) is kept as an empty row
with the reason, so the loader quarantines it with its line number.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

import polars as pl

HEAD_ROWS = 30  # the header is looked for in this many first rows
MAX_CELL_LINES = 100  # a quoted CSV cell spanning more lines than this is an unclosed quote
TOTAL = r"^(?:本页|本月|本表|全部)?(?:合计|小计|总计)(?:[:：(（].*)?$"
NOTE = (r"^(?:制表人?|审核人?|复核人?|填表人|填报人|单位负责人|负责人|联系人|联系电话|制表日期|填报日期"
        r"|打印日期|导出日期|备注|注|说明)[:：]")
EXTRA_FIELDS = "该行字段多于表头（表头 {w} 列），无法判断各值属于哪一列 (more fields than the header)"
UNCLOSED_QUOTE = "该行引号未闭合，无法读取 (unterminated quote)"
MALFORMED = "该行格式错误，无法读取 (malformed CSV row)"
_SPACE = re.compile(r"[\s\ufeff\u200b]+")


def header_key(text: str) -> str:
    """A header cell as it is matched: whitespace and line breaks removed, lower case."""
    return _SPACE.sub("", text).lower()


@dataclass(frozen=True)
class Header:
    row: int  # index of its first row among the rows read
    depth: int  # 1, or 2 with a parent row above the labels
    names: list[str]  # header text per position ("" when empty)


@dataclass
class Part:
    """The data rows of one CSV file or sheet, where each is in the file, what was skipped."""
    frame: pl.DataFrame  # text columns named by canonical column, else header text
    line: pl.Series  # file line (CSV) or sheet row (XLSX) of each row, 1-based
    broken: pl.Series  # why a row could not be read (null: read)
    numbers: dict[str, pl.Series]  # column -> cells stored as numbers that lost digits (XLSX)
    sheet: str | None
    before_header: int
    totals: int
    notes: int
    blank: int


def _band(upper: list[str | None], lower: list[str | None] | None, lookup: dict[str, str]) -> list[str]:
    """Header text per position of one header row, or of a parent row over a label row."""
    if lower is None:
        return [c or "" for c in upper]
    names, parent = [], ""
    for j in range(max(len(upper), len(lower))):
        up = upper[j] if j < len(upper) else None
        low = lower[j] if j < len(lower) else None
        parent = up or parent  # a merged parent cell holds its text in the leftmost cell only
        if low:
            key = header_key(parent)
            tries = [low, parent + low, key.removesuffix("信息") + low] if parent else [low]
            names.append(next((t for t in tries if header_key(t) in lookup), low))
        else:
            names.append(up or "")  # a label merged down over both rows
    return names


def named_columns(names: list[str], lookup: dict[str, str]) -> set[str]:
    """The table's columns that header texts name."""
    return {lookup[k] for k in map(header_key, names) if k in lookup}


def find_header(head: list[list[str | None]], lookup: dict[str, str], required: set[str]) -> Header | None:
    """The first row (or parent + label rows) naming every required column; else the one naming most."""
    best: tuple[int, Header] | None = None
    for r, row in enumerate(head):
        single = _band(row, None, lookup)
        found = named_columns(single, lookup)
        header = Header(r, 1, single)
        if r + 1 < len(head):
            pair = _band(row, head[r + 1], lookup)
            in_pair = named_columns(pair, lookup)
            if len(in_pair) > max(len(found), len(named_columns(_band(head[r + 1], None, lookup), lookup))):
                header, found = Header(r, 2, pair), in_pair
        if required <= found and found:
            return header
        if found and (best is None or len(found) > best[0]):
            best = (len(found), header)
    if best is not None:
        return best[1]
    first = next((r for r, row in enumerate(head) if any(row)), None)
    return None if first is None else Header(first, 1, _band(head[first], None, lookup))


def csv_head(data: bytes) -> tuple[list[list[str | None]], list[int]]:
    """The first ``HEAD_ROWS`` records of UTF-8 CSV bytes and the line each record ends on."""
    end = 0
    for _ in range(HEAD_ROWS * 4):
        nxt = data.find(b"\n", end)
        if nxt < 0:
            end = len(data)
            break
        end = nxt + 1
    lines = data[:end].decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    reader = csv.reader(line + "\n" for line in lines)
    records, ends = [], []
    try:
        for record in reader:
            records.append([f if f != "" else None for f in record])
            ends.append(reader.line_num)
            if len(records) == HEAD_ROWS:
                break
    except csv.Error:  # an unreadable record ends the head; the body reader reports it
        pass
    return records, ends


def csv_body(data: bytes, skip_lines: int, width: int, header_width: int) -> tuple[pl.DataFrame, pl.Series, pl.Series]:
    """The records after the first ``skip_lines`` lines: text columns ``_c<j>`` (``header_width`` of
    them), the line of each record and why it could not be read.

    Read by polars, ``width`` fields wide (the widest of the first rows: empty padding is
    common); a value beyond the header makes its row broken. A file polars refuses (a longer
    row, an unclosed quote) is read record by record so the rest is read.
    """
    schema = {f"_c{j}": pl.String for j in range(max(width, header_width))}
    try:
        frame = pl.read_csv(data, has_header=False, schema=schema, skip_lines=skip_lines)
    except pl.exceptions.PolarsError:
        return _csv_records(data, skip_lines, header_width)
    beyond = frame.columns[header_width:]
    broken = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    if beyond:
        extra = pl.any_horizontal([pl.col(c).str.len_bytes().fill_null(0) > 0 for c in beyond])
        broken = frame.select(pl.when(extra).then(pl.lit(EXTRA_FIELDS.format(w=header_width)))).to_series()
        frame = frame.drop(beyond)
    start = skip_lines + 1
    body_newlines = data.count(b"\n") - _nth_line_offset(data, skip_lines)[1]
    complete = frame.height if data.endswith(b"\n") else frame.height - 1
    if body_newlines == complete:  # no line breaks inside cells: one line per record
        line = pl.int_range(start, start + frame.height, dtype=pl.Int64, eager=True)
    else:
        inner = (frame.select(pl.sum_horizontal(pl.all().str.count_matches("\n", literal=True).fill_null(0)))
                 .to_series().cast(pl.Int64))
        line = pl.int_range(start, start + frame.height, dtype=pl.Int64, eager=True) + inner.cum_sum() - inner
    return frame, line, broken.cast(pl.String).alias("broken")


def _nth_line_offset(data: bytes, n: int) -> tuple[int, int]:
    """(byte offset after the first ``n`` lines, newlines counted)."""
    pos = count = 0
    while count < n:
        nxt = data.find(b"\n", pos)
        if nxt < 0:
            return len(data), count
        pos, count = nxt + 1, count + 1
    return pos, count


def _csv_records(data: bytes, skip_lines: int, width: int) -> tuple[pl.DataFrame, pl.Series, pl.Series]:
    """Record by record (only for a file polars refuses): a bad record is one empty row with its reason."""
    offset, _ = _nth_line_offset(data, skip_lines)
    lines = [line.removesuffix("\r") for line in data[offset:].decode("utf-8").split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    rows, numbers, reasons = [], [], []
    i = 0
    while i < len(lines):
        j, text, reason = i + 1, lines[i], None
        while text.count('"') % 2 and j < len(lines) and j - i < MAX_CELL_LINES:
            text, j = text + "\n" + lines[j], j + 1
        fields: list[str] = []
        if text.count('"') % 2:
            reason = UNCLOSED_QUOTE
        elif text:
            try:
                fields = next(csv.reader([text], strict=True))
            except csv.Error:
                reason = MALFORMED
            if reason is None and any(f.strip() for f in fields[width:]):
                reason = EXTRA_FIELDS.format(w=width)
        if reason is not None:
            reason = UNCLOSED_QUOTE if lines[i].count('"') % 2 else reason
            fields, j = [], i + 1  # only this line is lost; the next line is read on its own
        rows.append([f if f != "" else None for f in fields[:width]] + [None] * (width - min(len(fields), width)))
        numbers.append(skip_lines + i + 1)
        reasons.append(reason)
        i = j
    frame = pl.DataFrame(rows, schema={f"_c{k}": pl.String for k in range(width)}, orient="row")
    return frame, pl.Series("line", numbers, dtype=pl.Int64), pl.Series("broken", reasons, dtype=pl.String)


def footer_rows(frame: pl.DataFrame, broken: pl.Series, guard: list[str]) -> tuple[pl.Series, pl.Series, pl.Series]:
    """(blank, total, note) masks: blank rows, 合计/小计/总计 rows, note lines after the data.

    Only mostly empty rows are looked at closely (few rows: cheap), and a row with digits
    in a ``guard`` column (resident ids) is data, so a data row is never taken for a footer.
    """
    n = frame.height
    cols = frame.columns
    filled = frame.select(pl.sum_horizontal([pl.col(c).str.len_bytes().fill_null(0) > 0 for c in cols])).to_series()
    ok = broken.is_null()
    blank = (filled == 0) & ok
    near_empty = (filled > 0) & (filled <= max(2, len(cols) // 2)) & ok
    total = pl.repeat(False, n, dtype=pl.Boolean, eager=True)
    note = total.clone()
    if near_empty.any():
        idx = near_empty.arg_true()
        cells = [pl.col(c).str.replace_all(r"\s", "") for c in cols]
        ids = pl.any_horizontal([pl.col(c).str.contains("[0-9]{6}").fill_null(False) for c in guard] or [False])
        look = frame.filter(near_empty).select(
            (pl.any_horizontal([c.str.contains(TOTAL).fill_null(False) for c in cells]) & ~ids).alias("total"),
            (pl.coalesce([pl.when(c != "").then(c) for c in cells]).str.contains(NOTE).fill_null(False)
             & ~ids).alias("note"),
        )
        total = total.scatter(idx, look["total"])
        note = note.scatter(idx, look["note"] & ~look["total"])
    tail = (blank | total | note).reverse().cast(pl.Int8).cum_min().reverse().cast(pl.Boolean)
    return blank, total, note & tail


def finish(frame: pl.DataFrame, line: pl.Series, broken: pl.Series, names: list[str], columns: list[str | None],
           guard: set[str], numbers: dict[str, pl.Series], sheet: str | None, before_header: int) -> Part:
    """Name the positional columns ``_c<j>`` (canonical column, else header text), drop footers and blank columns."""
    names = names + [""] * (frame.width - len(names))
    columns = columns + [None] * (frame.width - len(columns))
    rename: dict[str, str] = {}
    for j, c in enumerate(frame.columns):
        name = columns[j] or _SPACE.sub("", names[j]) or f"_unnamed_{j}"
        rename[c] = name if name not in rename.values() else f"{name}_{j}"
    frame = frame.rename(rename)
    if not frame.width:  # an empty file or sheet: the loader reports the missing columns
        return Part(frame, line, broken, {}, sheet, before_header, 0, 0, 0)
    blank, total, note = footer_rows(frame, broken, [c for c in frame.columns if c in guard])
    keep = ~(blank | total | note)
    if not keep.all():  # filtering copies every column: only when something is dropped
        frame, line, broken = frame.filter(keep), line.filter(keep), broken.filter(keep)
        numbers = {k: v.filter(keep) for k, v in numbers.items()}
    unnamed = [rename[c] for j, c in enumerate(rename) if columns[j] is None and not _SPACE.sub("", names[j])]
    empty = [c for c in unnamed if not frame.height or not (frame[c].str.len_bytes().fill_null(0) > 0).any()]
    return Part(frame.drop(empty), line, broken, numbers, sheet, before_header, int(total.sum()), int(note.sum()),
                int(blank.sum()))
