"""Import of a street's returned 问题清单 (``issues.xlsx``): validate every row, then apply in one transaction.

Every bad row is reported at once (sheet, row, column, why) in one message whose first line says
how many there are; nothing is imported until the whole file is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.followup.lifecycle import TRANSITIONS, TransitionError, transition_message
from auditor.followup.workflow import _change, _close, street_of

# 核查结果 + 完成日期 -> target status. Documented in ``import_issues``.
TRUE_RESULTS = ("属实", "部分属实")
FALSE_RESULT = "不属实"
FILL_COLUMNS = ("核查结果", "整改措施", "整改责任人", "完成日期", "备注")


@dataclass
class ImportRow:
    sheet: str
    row: int
    finding_id: str
    target: str
    street: str
    responsible: str | None
    done_on: date | None
    note: str


class Problems:
    """The bad rows found so far; ``raise_if_any`` reports them all in one message."""

    def __init__(self, path: Path | str, what: str = "问题清单") -> None:
        self.path, self.what, self.lines = path, what, list[str]()

    def add(self, where: str, column: str, why: str) -> None:
        self.lines.append(f"{where} 列 {column}：{why}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise AuditInputError(f"{self.what} {self.path} 有 {len(self.lines)} 处错误，未导入任何行 "
                                  f"({len(self.lines)} bad rows, nothing imported):\n"
                                  + "\n".join(f"  - {line}" for line in self.lines))


def _cell_date(value: object, where: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(f"{value!r} 不是日期 (expected YYYY-MM-DD)")


def check_fill(text: dict[str, str], done_value: object, where: str,
               problems: Problems) -> tuple[str, str, date | None] | None:
    """The target status, note and 完成日期 of one row the street filled (``FILL_COLUMNS`` -> text), or None
    after adding what is wrong with it to ``problems`` (the mapping is ``read_issues``'s)."""
    before = len(problems.lines)
    result = text["核查结果"]
    try:
        done_on = _cell_date(done_value, where)
    except ValueError as exc:
        done_on = None
        problems.add(where, "完成日期", str(exc))
    note = "；".join(f"{k}：{text[k]}" for k in ("核查结果", "整改措施", "备注") if text[k])
    target = ""
    if result == FALSE_RESULT:
        if not text["备注"]:
            problems.add(where, "备注", "核查结果为不属实时必须在备注中说明理由 (reason required)")
        target, note = "dismissed", text["备注"]
    elif result in TRUE_RESULTS:
        target = "rectified" if done_on else "rectifying"
    else:
        problems.add(where, "核查结果", f"{result or '空'} 无效，应为 "
                     f"{'、'.join((*TRUE_RESULTS, FALSE_RESULT))} (invalid verification result)")
    return None if len(problems.lines) > before else (target, note, done_on)


def read_issues(path: Path) -> list[ImportRow]:
    """Read and validate every filled row of a returned issues.xlsx; raise once listing every bad row.

    Mapping (核查结果 → status):
      - 不属实 → ``dismissed``; 备注 is the reason and is required.
      - 属实 / 部分属实 with 完成日期 → ``rectified`` (整改措施 and 备注 kept as the note).
      - 属实 / 部分属实 without 完成日期 → ``rectifying`` (assigned to 整改责任人 if still new).
      - all street columns empty → row skipped (not yet handled); other values are errors.
    ``confirmed`` (a violation with money recovered) is decided by the auditor, not imported.
    """
    from openpyxl import load_workbook

    if path.suffix.lower() in (".xls", ".et", ".csv", ".ods"):
        raise AuditInputError(f"{path}: 是 {path.suffix.lower()} 格式，请在 Excel 或 WPS 中“另存为” "
                              "Excel 工作簿 (.xlsx) 后再导入 (save it as .xlsx first)")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is an input error
        raise AuditInputError(f"{path}: 无法读取问题清单 (cannot read xlsx): {exc}") from None
    streets = {}
    if "汇总" in wb.sheetnames:
        for r in wb["汇总"].iter_rows(min_row=4, values_only=True):
            if r and r[0] and len(r) >= 7 and r[6]:
                streets[str(r[6])] = str(r[0])
    out: list[ImportRow] = []
    problems = Problems(path)
    for ws in wb.worksheets:
        if ws.title == "汇总":
            continue
        rows = ws.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        missing = [c for c in ("问题编号", *FILL_COLUMNS) if c not in header]
        if missing:
            problems.lines.append(f"工作表 {ws.title}：缺少列 {', '.join(missing)} (missing columns)")
            continue
        col = {name: header.index(name) for name in ("问题编号", *FILL_COLUMNS)}
        for n, values in enumerate(rows, start=2):
            def get(name: str, v: tuple = values, col: dict[str, int] = col) -> object:
                return v[col[name]] if col[name] < len(v) else None
            text = {name: ("" if get(name) is None else str(get(name)).strip()) for name in FILL_COLUMNS}
            fid = str(get("问题编号") or "").strip()
            where = f"工作表 {ws.title} 第 {n} 行"
            if not any(text.values()):
                continue
            if not fid:
                problems.add(where, "问题编号", "为空 (finding id missing)")
            row = check_fill(text, get("完成日期"), where, problems)
            if row is not None and fid:
                target, note, done_on = row
                out.append(ImportRow(ws.title, n, fid, target, streets.get(ws.title, ws.title),
                                     text["整改责任人"] or None, done_on, note))
    problems.raise_if_any()
    return out


def _path(current: str, target: str) -> list[str]:
    """Shortest chain of allowed forward transitions from ``current`` to ``target``."""
    if current == target:
        return []
    frontier, seen = [[current]], {current}
    while frontier:
        chain = frontier.pop(0)
        for nxt in sorted(TRANSITIONS[chain[-1]] - {"new"}):
            if nxt == target:
                return chain[1:] + [nxt]
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(chain + [nxt])
    raise TransitionError(transition_message(current, target))


def import_issues(engine: Engine, path: Path, *, actor: str, only_street: str | None = None,
                  rectification_days: int = 30, today: date | None = None) -> dict[str, int]:
    """Apply a street's returned 问题清单 in one transaction after validating every row first.

    Rows whose finding already has the target status are left alone (re-import is harmless).
    """
    return apply_rows(engine, read_issues(Path(path)), Problems(Path(path)), actor=actor, only_street=only_street,
                      rectification_days=rectification_days, today=today)


def apply_rows(engine: Engine, rows: list[ImportRow], problems: Problems, *, actor: str,
               only_street: str | None = None, rectification_days: int = 30,
               today: date | None = None, source: str = "问题清单导入") -> dict[str, int]:
    """Check every row against the store (finding, street, transition), then apply them all in one
    transaction, or none, raising once with every problem; event notes begin with ``source``."""
    today = today or date.today()
    plan: list[tuple[ImportRow, list[str], dict]] = []
    with engine.connect() as conn:
        for r in rows:
            where = f"工作表 {r.sheet} 第 {r.row} 行" if r.row else r.sheet
            row = conn.execute(select(store.findings).where(store.findings.c.finding_id == r.finding_id)
                               ).mappings().first()
            if row is None:
                problems.add(where, "问题编号", f"{r.finding_id} 不存在 (unknown finding)")
                continue
            finding = dict(row)
            if only_street and street_of(finding) != only_street:
                problems.add(where, "问题编号", f"{r.finding_id} 不属于 {only_street} (not your street)")
                continue
            try:
                steps = _path(finding["status"], r.target)
            except TransitionError as exc:
                problems.add(where, "核查结果", str(exc))
                continue
            if "assigned" in steps and not r.responsible:
                problems.add(where, "整改责任人", "尚未交办的问题需填写整改责任人 (responsible person required)")
                continue
            plan.append((r, steps, finding))
    problems.raise_if_any()
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for r, steps, finding in plan:
            for step in steps:
                if step == "assigned":
                    due = r.done_on or today + timedelta(days=rectification_days)
                    _change(conn, r.finding_id, "assigned", actor=actor, action="assigned",
                            note=f"{source}：交办 {r.street} {r.responsible}",
                            values={"assigned_street": street_of(finding) or r.street,
                                    "assignee": r.responsible, "due_date": due})
                elif step == "rectifying":
                    _change(conn, r.finding_id, "rectifying", actor=actor, action="rectifying",
                            note=f"{source}：{r.note}")
                else:
                    reason = r.note if step == "dismissed" else f"{source}：{r.note}；完成日期 {r.done_on}"
                    _close(conn, r.finding_id, step, actor=actor, reason=reason, recovered_fen=None)
            counts[r.target if steps else "unchanged"] = counts.get(r.target if steps else "unchanged", 0) + 1
    return counts
