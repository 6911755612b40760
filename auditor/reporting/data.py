"""The monthly report: build a typed ``ReportData`` first, then render it.

``build_report_data`` turns a run's findings and summary into plain data;
``render_html`` renders it through the one configured jinja2 environment
(templates in ``reports/``); ``write_issues_xlsx`` writes the 问题清单 a street
office works through. Rendering cost depends on what is shown (top cases,
aggregates), not on the number of findings.
"""

from __future__ import annotations

import json
from importlib.resources import files
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from auditor.core.vocab import PROGRAM_LABELS
from auditor.core.vocab import SEVERITIES, SEVERITY_LABELS
from auditor.engine.runner import family_label, load_catalogue
from auditor.core.money import fen_to_yuan
from auditor.ingest.schema import TABLES

TEMPLATE_DIR = Path(str(files("auditor.templates")))  # the top-level reports/ folder, shipped in the wheel
TOP_CASES = 30
DISTRICT_SHEET = "区级"  # findings with no street (e.g. dishonesty records)


@dataclass
class RuleRow:
    code: str
    name: str
    family: str
    severity: str
    count: int
    amount: str


@dataclass
class StreetRow:
    street: str
    high: int
    medium: int
    low: int
    total: int
    amount: str


@dataclass
class TopCase:
    finding_id: str
    rule: str
    rule_name: str
    severity: str
    street: str
    amount: str
    title: str
    paths: list[str]


@dataclass
class TableRow:
    name: str
    label: str
    file: str
    read: int
    accepted: int
    quarantined: int
    missing_columns: str


@dataclass
class ReportData:
    district: str
    month: str
    profile: str
    generated_at: str
    money: dict[str, str]
    total_findings: int
    total_amount: str
    by_severity: dict[str, int]
    by_rule: list[RuleRow]
    by_street: list[StreetRow]
    top: list[TopCase]
    tables: list[TableRow]
    quarantine_reasons: list[dict]
    not_run: list[dict]
    sample_size: int
    extra_sections: list[dict] = field(default_factory=list)


def _paths(evidence: str) -> list[str]:
    """Readable relationship paths a rule put in its evidence (``paths``/``path``)."""
    try:
        data = json.loads(evidence)
    except (TypeError, ValueError):
        return []
    paths = data.get("paths") or ([data["path"]] if data.get("path") else [])
    return [p if isinstance(p, str) else " → ".join(map(str, p)) for p in paths][:5]


def build_report_data(*, frame: pl.DataFrame, summary: dict, district: str, sample_size: int) -> ReportData:
    catalogue = load_catalogue()
    names = {code: cls.name for code, cls in catalogue.items()}
    amount = pl.col("amount_fen").fill_null(0)

    per_rule = {r["rule"]: r for r in frame.group_by("rule").agg(
        n=pl.len(), fen=amount.sum()).iter_rows(named=True)}
    by_rule = [RuleRow(code, cls.name, cls.family, cls.severity, per_rule.get(code, {}).get("n", 0),
                       fen_to_yuan(per_rule.get(code, {}).get("fen", 0)))
               for code, cls in catalogue.items()]

    streets = (frame.with_columns(street=pl.col("street").fill_null(DISTRICT_SHEET))
               .group_by("street").agg(
                   *[(pl.col("severity") == s).sum().alias(s) for s in SEVERITIES],
                   total=pl.len(), fen=amount.sum())
               .sort(["total", "street"], descending=[True, False]))
    by_street = [StreetRow(r["street"], r["high"], r["medium"], r["low"], r["total"], fen_to_yuan(r["fen"]))
                 for r in streets.iter_rows(named=True)]

    rank = pl.col("severity").replace_strict({s: i for i, s in enumerate(SEVERITIES)}, return_dtype=pl.Int8)
    top_rows = frame.sort([rank, amount, "finding_id"], descending=[False, True, False]).head(TOP_CASES)
    top = [TopCase(r["finding_id"], r["rule"], names.get(r["rule"], r["rule"]), r["severity"],
                   r["street"] or DISTRICT_SHEET, fen_to_yuan(r["amount_fen"]), r["title"], _paths(r["evidence"]))
           for r in top_rows.iter_rows(named=True)]

    tables = [TableRow(name, TABLES[name].label, t["file"], t["read"], t["accepted"], t["quarantined"],
                       ", ".join(t["missing_columns"]))
              for name, t in summary["tables"].items()]
    money = summary["money"]
    return ReportData(
        district=district, month=summary["month"], profile=summary["profile"],
        generated_at=summary["finished_at"],
        money={k: money[k] for k in ("instructed", "paid", "matched", "at_risk")},
        total_findings=frame.height,
        total_amount=fen_to_yuan(frame["amount_fen"].fill_null(0).sum() if frame.height else 0),
        by_severity={s: int((frame["severity"] == s).sum()) if frame.height else 0 for s in SEVERITIES},
        by_rule=by_rule, by_street=by_street, top=top, tables=tables,
        quarantine_reasons=summary["quarantine_reasons"],
        not_run=[c for c in summary["checks"] if not c["ran"]],
        sample_size=sample_size,
    )


def environment() -> Environment:
    """The one jinja2 environment every template is rendered through."""
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["severity_label"] = lambda s: SEVERITY_LABELS.get(s, s)
    env.filters["program_label"] = lambda p: PROGRAM_LABELS.get(p, p or "")
    env.filters["family_label"] = family_label
    env.filters["thousands"] = _thousands
    return env


def _thousands(amount: str) -> str:
    """``"1234567.50"`` -> ``"1,234,567.50"`` (exact, on the text)."""
    if not amount:
        return ""
    sign, body = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
    whole, _, frac = body.partition(".")
    return f"{sign}{int(whole):,}.{frac}" if frac else f"{sign}{int(whole):,}"


def render_html(data: ReportData, template: str = "monthly.html.j2") -> str:
    return environment().get_template(template).render(r=data)


# ---------------------------------------------------------------- issues.xlsx

ISSUE_HEADERS = [
    ("finding_id", "问题编号", 18), ("rule", "规则", 6), ("rule_name", "规则名称", 14),
    ("severity", "严重程度", 8), ("program", "救助类型", 10), ("case_id", "案件编号", 14),
    ("person_id", "身份证号", 20), ("staff_id", "工号", 10), ("bank_account", "银行账号", 22),
    ("application_id", "申请编号", 12), ("record_id", "记录编号", 12), ("amount", "涉及金额(元)", 12),
    ("title", "问题描述", 60), ("status", "处理状态", 10),
]
STREET_FILLS = [("verify_result", "核查结果", 12), ("rectification", "整改措施", 30),
                ("responsible", "整改责任人", 12), ("done_on", "完成日期", 12), ("remarks", "备注", 20)]
VERIFY_CHOICES = "属实,部分属实,不属实"


def _sheet_title(name: str, taken: set[str]) -> str:
    clean = "".join("_" if ch in '[]:*?/\\' else ch for ch in name)[:31] or "未命名"
    title, n = clean, 2
    while title in taken:
        title = f"{clean[:28]}_{n}"
        n += 1
    taken.add(title)
    return title


def write_issues_xlsx(frame: pl.DataFrame, path: Path, *, month: str, district: str,
                      mask=None) -> None:
    """问题清单: a summary sheet and one sheet per street, with columns for the street to fill.

    ``mask`` (optional) is applied to the person/account columns before writing.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    names = {code: cls.name for code, cls in load_catalogue().items()}
    head_font, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
    fill_fill = PatternFill("solid", fgColor="FFF2CC")
    wb = Workbook()
    summary = wb.active
    summary.title = "汇总"
    summary.append([f"{district} {month} 社会救助资金审计问题清单"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([])
    summary.append(["街镇", "问题总数", "高", "中", "低", "涉及金额(元)", "工作表"])
    for cell in summary[3]:
        cell.font, cell.fill = head_font, head_fill
    data = frame.with_columns(street=pl.col("street").fill_null(DISTRICT_SHEET))
    taken = {"汇总"}
    streets = sorted(data["street"].unique().to_list()) if data.height else []
    for street in streets:
        rows = data.filter(pl.col("street") == street).sort("severity", "rule", "finding_id")
        if mask is not None:
            rows = mask(rows)
        title = _sheet_title(street, taken)
        sev = rows["severity"].value_counts()
        count = dict(zip(sev["severity"].to_list(), sev["count"].to_list()))
        fen = rows["amount_fen"].fill_null(0).sum()
        summary.append([street, rows.height, count.get("high", 0), count.get("medium", 0), count.get("low", 0),
                        Decimal(fen) / 100, title])
        summary.cell(summary.max_row, 6).number_format = "#,##0.00"
        ws = wb.create_sheet(title)
        headers = ISSUE_HEADERS + STREET_FILLS
        ws.append([h[1] for h in headers])
        for i, (_, _, width) in enumerate(headers, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = width
            cell = ws.cell(1, i)
            cell.font, cell.alignment = head_font, Alignment(wrap_text=True)
            cell.fill = fill_fill if i > len(ISSUE_HEADERS) else head_fill
            if i > len(ISSUE_HEADERS):
                cell.font = Font(bold=True)
        for r in rows.iter_rows(named=True):
            values = {**r, "rule_name": names.get(r["rule"], ""), "severity": SEVERITY_LABELS[r["severity"]],
                      "program": PROGRAM_LABELS.get(r["program"], r["program"]),
                      "amount": None if r["amount_fen"] is None else Decimal(r["amount_fen"]) / 100,
                      "status": r.get("status") or "new"}
            ws.append([values.get(key) for key, _, _ in ISSUE_HEADERS] + [None] * len(STREET_FILLS))
            ws.cell(ws.max_row, 12).number_format = "#,##0.00"
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions
        check = DataValidation(type="list", formula1=f'"{VERIFY_CHOICES}"', allow_blank=True)
        ws.add_data_validation(check)
        col = ws.cell(1, len(ISSUE_HEADERS) + 1).column_letter
        check.add(f"{col}2:{col}{max(rows.height + 1, 2)}")
    for letter, width in zip("ABCDEFG", (16, 10, 6, 6, 6, 16, 16)):
        summary.column_dimensions[letter].width = width
    wb.save(path)
