"""``findings`` — follow-up of findings: list, show, assign, update, close, import, dossier.

Every subcommand acts as a user (``--user`` or ``AUDITOR_USER``) whose role decides what may be
done and seen; the services check it, mask personal data and write the access log.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from auditor.cli import args as a
from auditor.core.cells import write_safe_csv
from auditor.core.errors import AuditInputError
from auditor.core.money import fen_to_yuan, to_fen
from auditor.core.periods import beijing_text
from auditor.core.private import private_dir, write_private_text
from auditor.core.vocab import FINDING_STATUS_LABELS, FINDING_STATUSES
from auditor.followup.lifecycle import CLOSED, EVENT_LABELS, status_label
from auditor.reporting.labels import evidence_view
from auditor.services import findings as service


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("findings",
                       help="问题线索跟踪 (finding follow-up: list/show/assign/update/close/import/dossier)")
    fs = p.add_subparsers(dest="findings_command", required=True, metavar="SUBCOMMAND")

    q = fs.add_parser("list", help="按条件查询 (query findings)")
    a.acting_user(q)
    q.add_argument("--person", help="身份证号 / 领款人 (person_id)")
    q.add_argument("--staff", help="工号 (staff_id)")
    q.add_argument("--street", help="街镇")
    q.add_argument("--rule", action="append", help="规则代码，可重复 (rule code, repeatable)")
    q.add_argument("--status", action="append",
                   help=f"状态，可重复或用逗号分隔：{', '.join(FINDING_STATUSES)}"
                        f"（或中文：{'、'.join(FINDING_STATUS_LABELS.values())}）")
    q.add_argument("--open", action="store_true", help="仅未结案 (new/assigned/rectifying)")
    q.add_argument("--from", dest="month_from", help="起始月份 YYYY-MM")
    q.add_argument("--to", dest="month_to", help="截止月份 YYYY-MM")
    q.add_argument("--recurring", action="store_true", help="仅复发问题")
    q.add_argument("--overdue", action="store_true", help="仅逾期未整改")
    q.add_argument("--limit", type=int, default=200, help="最多显示行数，默认 200")
    q.add_argument("--csv", help="另存为 CSV 文件")
    a.unmasked(q)
    q.set_defaults(handler=handle_list)

    s = fs.add_parser("show", help="查看一条问题及其全部历史 (one finding with its history)")
    a.acting_user(s)
    s.add_argument("finding_id")
    a.unmasked(s)
    s.set_defaults(handler=handle_show)

    asg = fs.add_parser("assign", help="交办街镇和责任人 (assign to street/person with a due date)")
    a.acting_user(asg)
    asg.add_argument("finding_id", nargs="+")
    asg.add_argument("--to", required=True, dest="person", help="责任人")
    asg.add_argument("--street", help="街镇，默认问题所在街镇")
    asg.add_argument("--due", help="完成期限 YYYY-MM-DD，默认今天 + rectification_days")
    asg.add_argument("--note")
    a.config(asg)
    asg.set_defaults(handler=handle_assign)

    u = fs.add_parser("update", help="开始整改或添加备注 (start rectifying / add a note)")
    a.acting_user(u)
    u.add_argument("finding_id", nargs="+")
    u.add_argument("--status", choices=["rectifying"], help="新状态")
    u.add_argument("--note")
    u.set_defaults(handler=handle_update)

    c = fs.add_parser("close", help="结案：rectified / confirmed / dismissed")
    a.acting_user(c)
    c.add_argument("finding_id", nargs="+")
    c.add_argument("--as", dest="outcome", required=True, choices=list(CLOSED))
    c.add_argument("--reason", help="理由（排除线索时必填）")
    c.add_argument("--recovered", help="追回金额（元，查实违规时），如 1200.50")
    c.set_defaults(handler=handle_close)

    i = fs.add_parser("import", help="导入街镇反馈的问题清单 issues.xlsx (import a returned issue list)")
    a.acting_user(i)
    i.add_argument("file")
    a.config(i)
    i.set_defaults(handler=handle_import)

    d = fs.add_parser("dossier", help="生成案卷 HTML (case dossier)")
    a.acting_user(d)
    d.add_argument("finding_id")
    d.add_argument("--out", required=True, help="输出 HTML 文件")
    a.unmasked(d)
    d.set_defaults(handler=handle_dossier)


def handle_list(args: argparse.Namespace) -> int:
    query = service.FindingQuery(
        person=args.person, staff=args.staff, street=args.street, rules=args.rule or [],
        statuses=_statuses(args.status or []), open_only=args.open, month_from=args.month_from, month_to=args.month_to,
        recurring=args.recurring, overdue=args.overdue)
    frame = service.list_findings(a.session(args), query, unmasked=args.unmasked)
    if frame.is_empty():
        print("没有符合条件的问题 (no findings match)")
        return 0
    frame = frame.with_columns(amount=pl.col("amount_fen").map_elements(fen_to_yuan, return_dtype=pl.String)
                               ).drop("amount_fen")
    if args.csv:
        write_safe_csv(frame, args.csv, keep=("amount",))
        print(f"{frame.height} 条已写入 {args.csv}")
        return 0
    shown = frame.head(args.limit).with_columns(
        status=pl.col("status").replace_strict(FINDING_STATUS_LABELS, default=pl.col("status")))
    shown = shown.select([c for c in shown.columns
                          if c in ("finding_id", "status") or shown[c].null_count() < shown.height])
    with pl.Config(tbl_rows=args.limit, tbl_cols=-1, fmt_str_lengths=50, tbl_width_chars=200,
                   tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(shown)
    print(f"共 {frame.height} 条 (total)")
    return 0


def _statuses(values: list[str]) -> list[str]:
    """``--status new,assigned --status 整改中`` -> codes; an unknown one is refused naming the option."""
    by_label = {label: code for code, label in FINDING_STATUS_LABELS.items()}
    codes = []
    for part in (p.strip() for v in values for p in v.replace("，", ",").split(",")):
        if not part:
            continue
        code = part if part in FINDING_STATUSES else by_label.get(part)
        if code is None:
            raise AuditInputError(f"--status {part!r} 无效，应为 {', '.join(FINDING_STATUSES)} 或 "
                                  f"{'、'.join(FINDING_STATUS_LABELS.values())} (unknown status)")
        codes.append(code)
    return codes


def handle_show(args: argparse.Namespace) -> int:
    record = service.show_finding(a.session(args), args.finding_id, unmasked=args.unmasked)
    finding, occ, events = record.finding, record.occurrences, record.events
    label = FINDING_STATUS_LABELS[finding["status"]]
    print(f"{finding['finding_id']}  规则 {finding['rule']}  状态 {label}"
          f"{'  复发 recurring' if finding['recurring'] else ''}")
    print(f"街镇 {finding['street'] or '-'}  领款人 {finding['person_id'] or '-'}  工号 {finding['staff_id'] or '-'}"
          f"  交办 {finding['assigned_street'] or '-'} {finding['assignee'] or ''}  期限 {finding['due_date'] or '-'}")
    if finding["amount_recovered_fen"] is not None:
        print(f"追回金额 {fen_to_yuan(finding['amount_recovered_fen'])} 元")
    print("\n各月发现 (occurrences):")
    for o in occ:
        print(f"  {o['month']}  {fen_to_yuan(o['amount_fen']) if o['amount_fen'] is not None else '-':>12}  "
              f"{o['title']}")
    if occ:
        print("\n最近证据 (latest evidence):")
        try:
            view = evidence_view(json.loads(occ[-1]["evidence"]))
        except ValueError:
            view = {"fields": [("内容", occ[-1]["evidence"])], "tables": []}
        for label, value in view["fields"]:
            print(f"  {label}：{value}")
        for t in view["tables"]:
            print(f"  {t['title']}：")
            for row in t["rows"]:
                print("    " + "；".join(f"{c} {v}" for c, v in zip(t["columns"], row, strict=True) if v != ""))
    print("\n处理记录 (events, 北京时间 Beijing time):")
    for e in events:
        amount = f" 追回 {fen_to_yuan(e['amount_fen'])} 元" if e["amount_fen"] is not None else ""
        print(f"  {beijing_text(e['at'])}  {e['actor']}  {EVENT_LABELS.get(e['action'], e['action'])}  "
              f"{status_label(e['from_status'])}→{status_label(e['to_status'])}{amount}  {e['note'] or ''}")
    return 0


def _updated(fids: list[str]) -> int:
    for fid in fids:
        print(f"{fid}: 已更新 (updated)")
    return 0


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AuditInputError(f"{what} {value!r} 不是日期 (expected YYYY-MM-DD)") from None


def handle_assign(args: argparse.Namespace) -> int:
    return _updated(service.assign(
        a.session(args), args.finding_id, person=args.person, street=args.street,
        due=_date(args.due, "--due") if args.due else None, note=args.note,
        rectification_days=a.profile(args).rectification_days))


def handle_update(args: argparse.Namespace) -> int:
    if not (args.status or args.note):
        raise AuditInputError("请给出 --status 或 --note (nothing to update)")
    return _updated(service.update(a.session(args), args.finding_id, start=bool(args.status), note=args.note))


def handle_close(args: argparse.Namespace) -> int:
    recovered = None
    if args.recovered is not None:
        try:
            recovered = to_fen(Decimal(args.recovered))
        except (InvalidOperation, ValueError):
            raise AuditInputError(f"--recovered {args.recovered!r} 不是金额 (expected yuan, e.g. 1200.50)") from None
    return _updated(service.close(a.session(args), args.finding_id, outcome=args.outcome, reason=args.reason,
                                  recovered_fen=recovered))


def handle_import(args: argparse.Namespace) -> int:
    counts = service.import_returned(a.session(args), Path(args.file),
                                     rectification_days=a.profile(args).rectification_days)
    print("导入完成 (imported): " + ("，".join(f"{k} {v}" for k, v in sorted(counts.items())) or "无填写行"))
    return 0


def handle_dossier(args: argparse.Namespace) -> int:
    html = service.dossier(a.session(args), args.finding_id, unmasked=args.unmasked)
    out = Path(args.out)
    private_dir(out.parent)
    write_private_text(out, html)
    print(f"案卷 (dossier): {out}")
    return 0
