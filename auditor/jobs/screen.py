"""支付前筛查: check a payment-instruction file before it goes to the bank.

Each instruction (payments table format) is matched to its case (by case_id,
else by payee and program, preferring the case active in the payment month)
and every member of that case plus the payee is checked, with the period
logic of the E/D rules and the instruction's own benefit month:

- ``death``: died before the first day of the payment month (as E01);
- ``payroll``: public_payroll covering any day of the month, means-tested programs (as E02);
- ``prison``: imprisonment covering the whole month (as E04);
- ``dishonesty``: a restriction covering the month (as D01);
- ``case``: the case is terminated (end_month before the month, or no end_month)
  or suspended; ``no_case``: no case matches the instruction, so it cannot be checked;
- ``over_approved``: the file's instructions for one case of a monthly program and one
  benefit month (not flagged small_amount) sum to more than the case's approved
  monthly_amount (as S01); every instruction of that case and month is held;
- ``invalid``: the row breaks the data contract (quarantined), so it cannot be
  checked; such rows are held whatever ``--month`` says.

Only the tables needed are read; a missing optional table is reported as not
checked. Everything is a semi/anti join on person_id, no row loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from auditor.core.cells import write_safe_csv, xlsx_row
from auditor.core.config import Profile
from auditor.core.errors import AuditInputError
from auditor.core.money import yuan
from auditor.core.periods import covers, imprisoned_whole, restriction_covers
from auditor.core.private import make_private, private_dir
from auditor.core.vocab import CASE_STATUS_LABELS
from auditor.ingest.loader import EXTENSIONS, find_table_file, header_map, load_table, read_raw
from auditor.ingest.normalize import free_text
from auditor.ingest.schema import TABLES

REQUIRED = ("cases", "members")
OPTIONAL = ("deaths", "public_payroll", "penalties", "dishonesty")
REASON_LABELS = {"death": "身故", "payroll": "财政供养", "prison": "服刑", "dishonesty": "失信受限",
                 "case": "案件终止或暂停", "over_approved": "超审批金额", "no_case": "无对应案件",
                 "invalid": "数据无效"}
HOLD_COLUMNS = ["payment_id", "case_id", "payee_id", "program", "month", "amount", "bank_account", "street",
                "reason_codes", "reasons", "source_row"]


@dataclass
class ScreenResult:
    screened: int                       # instructions checked (valid rows in scope)
    holds: pl.DataFrame                 # HOLD_COLUMNS, one row per held instruction
    held_fen: int = 0                   # total of the valid held instructions
    not_checked: list[str] = field(default_factory=list)  # checks skipped, with why
    ignored_other_months: int = 0

    def counts(self) -> dict[str, int]:
        if not self.holds.height:
            return {}
        codes = self.holds["reason_codes"].str.split(";").explode()
        return dict(sorted(codes.value_counts().iter_rows()))


def load_payments(path: str | Path, profile: Profile) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Accepted instruction rows and the raw rows that were quarantined (with their reasons)."""
    path = Path(path)
    if not path.is_file():
        raise AuditInputError(f"支付指令文件 {path} 不存在 (payment file not found)")
    if path.suffix.lower() not in EXTENSIONS:
        raise AuditInputError(f"{path}: 不支持的文件格式，应为 {' / '.join(EXTENSIONS)} (unsupported format)")
    table = TABLES["payments"]
    accepted, quarantine, _ = load_table(path, table, profile)
    if not quarantine.height:
        return accepted, pl.DataFrame()
    raw = read_raw(path, table, profile=profile).with_row_index("_row", offset=1)
    raw = raw.with_columns(pl.col("_row").cast(pl.Int64))
    reasons = quarantine.group_by("source_row").agg(
        reasons=pl.format("{}：{}（{}）", pl.lit(REASON_LABELS["invalid"]), pl.col("column").fill_null(""),
                          pl.col("reason"))
        .str.join("；"))
    raw = raw.rename(header_map(table, raw.columns, path, profile))
    return accepted, raw.join(reasons, left_on="_row", right_on="source_row")


def _load_drop_tables(data_dir: Path, profile: Profile) -> tuple[dict[str, pl.DataFrame], list[str]]:
    if not data_dir.is_dir():
        raise AuditInputError(f"数据目录 {data_dir} 不存在 (data drop folder not found)")
    tables, not_checked = {}, []
    for name in REQUIRED + OPTIONAL:
        path = find_table_file(data_dir, TABLES[name])
        if path is None:
            if name in REQUIRED:
                raise AuditInputError(f"{data_dir}: 缺少数据表 {name}（{TABLES[name].label}），无法筛查 "
                                      "(missing table)")
            not_checked.append(f"{name}（{TABLES[name].label}）：数据表缺失，未检查")
            continue
        tables[name] = load_table(path, TABLES[name], profile)[0]
    return tables, not_checked


def _match_cases(pay: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """payment_id -> case_id (null when nothing matches)."""
    known = pl.col("case_id").is_not_null() & pl.col("case_id").is_in(cases["case_id"].implode())
    direct = pay.filter(known).select("payment_id", "case_id")
    active = (((pl.col("status") == "active")
               | (pl.col("status").is_in(["suspended", "terminated"]) & (pl.col("end_month") >= pl.col("month"))))
              & (pl.col("start_month") <= pl.col("month")))
    ranked = (pay.filter(~known).select("payment_id", "payee_id", "program", "month")
              .join(cases.select("case_id", "payee_id", "program", "status", "start_month", "end_month"),
                    on=["payee_id", "program"], how="left")
              .with_columns(_a=active.fill_null(False))
              .sort(["payment_id", "_a", "case_id"], descending=[False, True, False], nulls_last=True)
              .unique("payment_id", keep="first").select("payment_id", "case_id"))
    return pl.concat([direct, ranked])


def _over_approved(pay: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """Instructions of a (case, benefit month) whose monthly-program, non-small-amount instructions sum to
    more than the case's monthly_amount (S01's test), with instructed_fen and monthly_amount."""
    monthly = pl.col("program") != "temporary"
    counted = pay.filter(monthly & ~pl.col("small_amount").fill_null(False) & pl.col("case_id").is_not_null())
    over = (counted.group_by("case_id", "month").agg(instructed_fen=pl.col("amount").sum())
            .join(cases.filter(monthly).select("case_id", "monthly_amount"), on="case_id")
            .filter(pl.col("instructed_fen") > pl.col("monthly_amount")))
    return counted.join(over, on=["case_id", "month"])


def screen(payments: str | Path, data_dir: str | Path, profile: Profile, month: str | None = None) -> ScreenResult:
    """Screen the instructions of ``payments`` (only benefit month ``month`` when given)."""
    accepted, invalid = load_payments(payments, profile)
    tables, not_checked = _load_drop_tables(Path(data_dir), profile)
    ignored = 0
    if month is not None:
        ignored = accepted.filter(pl.col("month") != month).height
        accepted = accepted.filter(pl.col("month") == month)
    first = pl.concat_str(pl.col("month"), pl.lit("-01")).str.to_date("%Y-%m-%d")
    pay = accepted.with_columns(m_first=first, m_last=first.dt.month_end())
    cases = tables["cases"]
    matched = _match_cases(pay, cases)
    pay = pay.drop("case_id").join(matched, on="payment_id", how="left")

    # everyone the payment is for: the case's members and the payee
    people = pl.concat([
        pay.join(tables["members"].select("case_id", "person_id"), on="case_id", how="inner")
        .select("payment_id", "payee_id", "person_id", "program", "m_first", "m_last", "month"),
        pay.select("payment_id", "payee_id", pl.col("payee_id").alias("person_id"), "program", "m_first",
                   "m_last", "month"),
    ]).unique(["payment_id", "person_id"])
    who = pl.concat_str(pl.when(pl.col("person_id") == pl.col("payee_id")).then(pl.lit("领款人"))
                        .otherwise(pl.lit("家庭成员")), pl.col("person_id"))

    hits: list[pl.DataFrame] = []

    def add(code: str, frame: pl.DataFrame, text: pl.Expr) -> None:
        hits.append(frame.select("payment_id", pl.lit(code).alias("code"), text.alias("reason")))

    if "deaths" in tables:
        f = people.join(tables["deaths"], on="person_id").filter(pl.col("died_on") < pl.col("m_first"))
        add("death", f, pl.format("{}已于{}身故", who, pl.col("died_on")))
    if "public_payroll" in tables:
        f = (people.filter(pl.col("program").is_in(list(profile.means_tested_programs)))
             .join(tables["public_payroll"], on="person_id")
             .filter(covers("start_date", "end_date", pl.col("m_first"), pl.col("m_last"))))
        add("payroll", f, pl.format("{}为财政供养人员（{}）", who, pl.col("employer").fill_null("")))
    if "penalties" in tables:
        f = people.join(tables["penalties"], on="person_id").filter(
            imprisoned_whole(pl.col("m_first"), pl.col("m_last")))
        add("prison", f, pl.format("{}自{}起服刑", who, pl.col("start_date")))
    if "dishonesty" in tables:
        f = people.join(tables["dishonesty"].select("person_id", "record_id", "recorded_on", "restricted_until"),
                        on="person_id").filter(restriction_covers(pl.col("m_first"), pl.col("m_last")))
        add("dishonesty", f, pl.format("{}有失信记录{}（限制期覆盖{}）", who, pl.col("record_id"), pl.col("month")))
    case_rows = pay.join(cases.select("case_id", "status", pl.col("end_month").alias("case_end")), on="case_id")
    ended = (pl.col("status") == "suspended") | (pl.col("case_end") < pl.col("month")) | (
        (pl.col("status") == "terminated") & pl.col("case_end").is_null())
    status = pl.col("status").replace_strict(CASE_STATUS_LABELS)
    add("case", case_rows.filter(ended),
        pl.format("案件{}状态为{}（终止月份{}）", pl.col("case_id"), status, pl.col("case_end").fill_null("空")))
    add("over_approved", _over_approved(pay, cases),
        pl.format("案件{} {} 指令合计{}元，超过审批月救助金额{}元", pl.col("case_id"), pl.col("month"),
                  yuan(pl.col("instructed_fen")), yuan(pl.col("monthly_amount"))))
    add("no_case", pay.filter(pl.col("case_id").is_null()),
        pl.format("找不到领款人{}的{}案件，无法核对", pl.col("payee_id"), pl.col("program")))

    order = {code: i for i, code in enumerate(REASON_LABELS)}
    reasons = (pl.concat(hits).unique().with_columns(_o=pl.col("code").replace_strict(order, return_dtype=pl.Int8))
               .sort("payment_id", "_o", "reason")
               .group_by("payment_id", maintain_order=True)
               .agg(reason_codes=pl.col("code").unique(maintain_order=True).str.join(";"),
                    reasons=pl.col("reason").str.join("；")))
    held = pay.join(reasons, on="payment_id", how="inner")
    held_fen = int(held["amount"].sum() or 0)
    held = held.select("payment_id", "case_id", "payee_id", "program", "month", yuan(pl.col("amount")).alias("amount"),
                       "bank_account", "street", "reason_codes", "reasons", pl.col("_row").alias("source_row"))
    if invalid.height:
        raw = [free_text((pl.col(c) if c in invalid.columns else pl.lit(None)).cast(pl.String)).alias(c)
               for c in ("payment_id", "case_id", "payee_id", "program", "month", "amount", "bank_account", "street")]
        bad = invalid.select(*raw,
                             pl.lit("invalid").alias("reason_codes"), "reasons",
                             pl.col("_row").alias("source_row"))
        held = pl.concat([held, bad])
    return ScreenResult(screened=pay.height, holds=held.select(HOLD_COLUMNS).sort("source_row"),
                        held_fen=held_fen, not_checked=not_checked, ignored_other_months=ignored)


def write_holds(result: ScreenResult, out: Path) -> list[Path]:
    """The hold list as CSV (UTF-8 with BOM, for Excel) and XLSX beside it."""
    private_dir(out.parent)
    labels = {"payment_id": "发放编号", "case_id": "案件编号", "payee_id": "领款人身份证号", "program": "救助类型",
              "month": "所属月份", "amount": "发放金额", "bank_account": "银行账号", "street": "街镇",
              "reason_codes": "暂停原因代码", "reasons": "暂停原因", "source_row": "源文件行号"}
    csv_path = out if out.suffix.lower() == ".csv" else out.with_suffix(".csv")
    write_safe_csv(result.holds, csv_path, keep=("amount",))
    xlsx_path = csv_path.with_suffix(".xlsx")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "暂停支付清单"
    ws.append([labels[c] for c in HOLD_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in result.holds.iter_rows():
        xlsx_row(ws, list(row))
    for letter, width in zip("ABCDEFGHIJK", (18, 14, 20, 10, 9, 12, 22, 12, 18, 70, 8), strict=False):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    wb.save(xlsx_path)
    make_private(xlsx_path)
    return [csv_path, xlsx_path]
