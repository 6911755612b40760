"""Chinese labels for what pages and messages show: contract codes (``dibao`` -> 低保, ``cadre`` ->
村居干部, ``active`` -> 在保) and evidence keys (``payee_id`` -> 领款人身份证号), so English codes do not
leak into Chinese text. Evidence is turned into fields and tables for the dossier and ``findings show``."""

from __future__ import annotations

import json
from typing import Any

from auditor.core import vocab
from auditor.ingest.schema import TABLES

KIND_CODES = {"program": vocab.PROGRAMS, "case_status": vocab.CASE_STATUS, "ledger_status": vocab.LEDGER_STATUS,
              "relation": vocab.RELATIONS, "member_relation": vocab.MEMBER_RELATIONS,
              "staff_role": vocab.STAFF_ROLES, "review_cycle": vocab.REVIEW_CYCLES,
              "business_role": vocab.BUSINESS_ROLES, "penalty_kind": vocab.PENALTY_KINDS}
KIND_LABELS = {kind: {code: labels[0] for code, labels in codes.items()} for kind, codes in KIND_CODES.items()}
KIND_LABELS["basis"] = vocab.TEKUN_BASIS_LABELS

# evidence keys -> (label, kind of their values); contract columns first, then the checks' own keys
KEY_LABELS: dict[str, tuple[str, str]] = {}
for _t in TABLES.values():
    for _c in _t.columns:
        KEY_LABELS.setdefault(_c.name, (_c.label, _c.kind))
KEY_LABELS.update({
    "reason": ("原因", "str"), "allocation_rows": ("拨付记录数", "str"), "unit": ("认定单位", "str"),
    "status": ("状态", "case_status"), "relation": ("关系", "relation"), "role": ("角色", "staff_role"),
    "programs": ("救助类型", "program"), "program": ("救助类型", "program"), "kind": ("类型", "penalty_kind"),
    "review_cycle": ("复核周期", "review_cycle"),
    "paid": ("支付金额(元)", "str"), "instructed": ("指令金额(元)", "str"), "difference": ("差额(元)", "str"),
    "n_paid": ("支付笔数", "str"), "n_instr": ("指令笔数", "str"), "txn_ids": ("流水号", "str"),
    "payee_ids": ("领款人身份证号", "person_id"), "holders": ("开户人身份证号", "person_id"),
    "relatives": ("亲属身份证号", "person_id"), "case_ids": ("案件编号", "str"), "cases": ("案件", "str"),
    "record_ids": ("记录编号", "str"), "filings": ("备案", "str"), "ways": ("方式", "str"),
    "roles": ("职责", "str"), "shared": ("共用", "str"), "shared_values": ("共用内容", "str"),
    "payees": ("领款人", "str"), "records": ("失信记录", "str"), "paid_cases": ("支付案件", "str"),
    "paid_rows": ("支付记录", "str"), "not_paid_rows": ("未到账记录", "str"), "instructions": ("发放指令", "str"),
    "instr_accounts": ("指令账号", "account"), "other_accounts": ("其他账号", "account"),
    "extra_txns": ("多出流水", "str"), "late_rows": ("逾期支付记录", "str"), "late_count": ("逾期笔数", "str"),
    "late_total": ("逾期金额(元)", "str"), "deadline": ("期限", "str"), "days": ("天数", "str"),
    "defrauded": ("骗取金额(元)", "str"), "recovered": ("已追回(元)", "str"), "outstanding": ("未追回(元)", "str"),
    "months_paid_after_death": ("死亡后支付月份", "str"), "paid_after_death": ("死亡后支付(元)", "str"),
    "months_paid_in_prison": ("服刑期间支付月份", "str"), "paid_in_prison": ("服刑期间支付(元)", "str"),
    "public_payroll": ("财政供养记录", "str"), "jobs": ("就业记录", "str"), "vehicles": ("车辆", "str"),
    "businesses": ("工商登记", "str"), "properties": ("不动产", "str"), "imprisonment": ("服刑记录", "str"),
    "n_properties": ("不动产数", "str"), "why": ("说明", "str"), "n_cases": ("案件数", "str"),
    "allocated": ("拨付金额(元)", "str"), "idle": ("结余(元)", "str"), "over": ("超支(元)", "str"),
    "months_not_due": ("不应支付月份", "str"), "paid_not_due": ("不应支付金额(元)", "str"),
    "small_amount_total": ("小额合计(元)", "str"), "limit": ("限额(元)", "str"), "payments": ("发放记录", "str"),
    "born": ("出生日期", "str"), "came_of_age": ("成年日期", "str"), "age_limit": ("年龄上限", "str"),
    "basis": ("认定依据", "basis"), "working_days": ("工作日", "str"), "special": ("特殊情形", "str"),
    "pending_at_month_end": ("月末仍未办结", "str"), "month_end": ("月末", "str"), "review_due": ("应复核日期", "str"),
    "phase_out_start": ("渐退起始", "str"), "months_since_start": ("已渐退月数", "str"),
    "phase_out_months": ("渐退期限(月)", "str"), "waiting": ("已等待天数", "str"), "delay": ("延迟天数", "str"),
})
HIDDEN = ("nodes", "edges", "paths", "path", "svg")  # drawn and listed elsewhere


def key_label(key: str) -> str:
    return KEY_LABELS.get(key, (key, "str"))[0]


def value_text(key: str, value: Any) -> str:
    """A scalar or list of scalars as shown: codes as their Chinese labels, booleans 是/否, None empty."""
    if isinstance(value, list):
        return "、".join(value_text(key, v) for v in value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    kind = KEY_LABELS.get(key, ("", "str"))[1]
    return KIND_LABELS.get(kind, {}).get(str(value), str(value))


def evidence_view(data: Any) -> dict:
    """Evidence as ``fields`` [(label, text)] and ``tables`` [{title, columns, rows}] (lists of records)."""
    if not isinstance(data, dict):
        return {"fields": [("内容", json.dumps(data, ensure_ascii=False))], "tables": []}
    fields, tables = [], []
    for key, value in data.items():
        if key in HIDDEN:
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            columns = list(dict.fromkeys(k for v in value for k in v))
            tables.append({"title": key_label(key), "columns": [key_label(c) for c in columns],
                           "rows": [[_cell(c, v.get(c)) for c in columns] for v in value]})
        elif isinstance(value, dict):
            fields.append((key_label(key), "；".join(f"{key_label(k)} {_cell(k, v)}" for k, v in value.items())))
        else:
            fields.append((key_label(key), value_text(key, value)))
    return {"fields": fields, "tables": tables}


def _cell(key: str, value: Any) -> str:
    if isinstance(value, dict | list) and not (isinstance(value, list) and all(not isinstance(v, dict | list)
                                                                                  for v in value)):
        return json.dumps(value, ensure_ascii=False)
    return value_text(key, value)
