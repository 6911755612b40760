"""``findings`` — follow-up of findings: list, show, assign, update, close, import, dossier.

Every subcommand acts as a user (``--user`` or ``AUDITOR_USER``) whose role
decides what may be done and seen (``auditor.privacy``); every query is
written to the access log. Personal data is masked unless ``--unmasked`` is
given by a role allowed to ask for it.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from auditor.core import vocab
from auditor.followup import lifecycle, importer
from auditor.followup import workflow as followup
from auditor import store
from auditor.cli.commands.run import month_arg
from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.core.money import fen_to_yuan, to_fen
from auditor.followup.privacy import User, current_user, log_access
from auditor.core.masking import mask_frame, mask_text

LIST_COLUMNS = ("finding_id", "rule", "status", "street", "assigned_street", "person_id", "staff_id", "month",
                "amount_fen", "assignee", "due_date", "recurring", "title")


def add_user_args(p) -> None:
    p.add_argument("--db", default=None, help="数据库地址，默认内嵌 SQLite (out/auditor.db)")
    p.add_argument("--user", default=None, help="操作人（或环境变量 AUDITOR_USER）")


def session(args) -> tuple:
    engine = store.connect(args.db)
    return engine, current_user(engine, args.user)


def register(sub) -> None:
    p = sub.add_parser("findings", help="问题线索跟踪 (finding follow-up: list/show/assign/update/close/import/dossier)")
    fs = p.add_subparsers(dest="findings_command", required=True, metavar="SUBCOMMAND")

    q = fs.add_parser("list", help="按条件查询 (query findings)")
    add_user_args(q)
    q.add_argument("--person", help="身份证号 / 领款人 (person_id)")
    q.add_argument("--staff", help="工号 (staff_id)")
    q.add_argument("--street", help="街镇")
    q.add_argument("--rule", action="append", help="规则代码，可重复 (rule code, repeatable)")
    q.add_argument("--status", action="append", help=f"状态，可重复：{', '.join(vocab.FINDING_STATUSES)}")
    q.add_argument("--open", action="store_true", help="仅未结案 (new/assigned/rectifying)")
    q.add_argument("--from", dest="month_from", help="起始月份 YYYY-MM")
    q.add_argument("--to", dest="month_to", help="截止月份 YYYY-MM")
    q.add_argument("--recurring", action="store_true", help="仅复发问题")
    q.add_argument("--overdue", action="store_true", help="仅逾期未整改")
    q.add_argument("--limit", type=int, default=200, help="最多显示行数，默认 200")
    q.add_argument("--csv", help="另存为 CSV 文件")
    q.add_argument("--unmasked", action="store_true", help="显示完整证件号（仅审计、纪检，记入访问日志）")
    q.set_defaults(handler=handle_list)

    s = fs.add_parser("show", help="查看一条问题及其全部历史 (one finding with its history)")
    add_user_args(s)
    s.add_argument("finding_id")
    s.add_argument("--unmasked", action="store_true")
    s.set_defaults(handler=handle_show)

    a = fs.add_parser("assign", help="交办街镇和责任人 (assign to street/person with a due date)")
    add_user_args(a)
    a.add_argument("finding_id", nargs="+")
    a.add_argument("--to", required=True, dest="person", help="责任人")
    a.add_argument("--street", help="街镇，默认问题所在街镇")
    a.add_argument("--due", help="完成期限 YYYY-MM-DD，默认今天 + rectification_days")
    a.add_argument("--note")
    a.add_argument("--config", default=None)
    a.set_defaults(handler=handle_assign)

    u = fs.add_parser("update", help="开始整改或添加备注 (start rectifying / add a note)")
    add_user_args(u)
    u.add_argument("finding_id", nargs="+")
    u.add_argument("--status", choices=["rectifying"], help="新状态")
    u.add_argument("--note")
    u.set_defaults(handler=handle_update)

    c = fs.add_parser("close", help="结案：rectified / confirmed / dismissed")
    add_user_args(c)
    c.add_argument("finding_id", nargs="+")
    c.add_argument("--as", dest="outcome", required=True, choices=list(lifecycle.CLOSED))
    c.add_argument("--reason", help="理由（排除线索时必填）")
    c.add_argument("--recovered", help="追回金额（元，查实违规时），如 1200.50")
    c.set_defaults(handler=handle_close)

    i = fs.add_parser("import", help="导入街镇反馈的问题清单 issues.xlsx (import a returned issue list)")
    add_user_args(i)
    i.add_argument("file")
    i.add_argument("--config", default=None)
    i.set_defaults(handler=handle_import)

    d = fs.add_parser("dossier", help="生成案卷 HTML (case dossier)")
    add_user_args(d)
    d.add_argument("finding_id")
    d.add_argument("--out", required=True, help="输出 HTML 文件")
    d.add_argument("--unmasked", action="store_true")
    d.set_defaults(handler=handle_dossier)


def _filters(args, user: User) -> followup.Filters:
    street = args.street
    if user.role == "street":
        if street and street != user.street:
            user.require_street(street)
        street = user.street
    status = list(args.status or [])
    if args.open:
        status += list(lifecycle.OPEN)
    return followup.Filters(
        person=args.person, staff=args.staff, street=street, rule=args.rule, status=status or None,
        month_from=month_arg(args.month_from) if args.month_from else None,
        month_to=month_arg(args.month_to) if args.month_to else None,
        recurring=True if args.recurring else None, overdue=args.overdue)


def visible(frame: pl.DataFrame, unmasked: bool) -> pl.DataFrame:
    return frame if unmasked or frame.is_empty() else mask_frame(frame)


def handle_list(args) -> int:
    engine, user = session(args)
    user.require("read")
    unmasked = user.unmasked(args.unmasked)
    f = _filters(args, user)
    frame = followup.query(engine, f)
    log_access(engine, user, "findings.list", detail={k: v for k, v in vars(f).items() if v},
               unmasked=unmasked)
    if frame.is_empty():
        print("没有符合条件的问题 (no findings match)")
        return 0
    frame = visible(frame.select(LIST_COLUMNS).with_columns(
        amount=pl.col("amount_fen").map_elements(fen_to_yuan, return_dtype=pl.String)).drop("amount_fen"),
        unmasked)
    if args.csv:
        frame.write_csv(args.csv)
        print(f"{frame.height} 条已写入 {args.csv}")
        return 0
    shown = frame.head(args.limit)
    shown = shown.select([c for c in shown.columns
                          if c in ("finding_id", "status") or shown[c].null_count() < shown.height])
    with pl.Config(tbl_rows=args.limit, tbl_cols=-1, fmt_str_lengths=50, tbl_width_chars=200,
                   tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(shown)
    print(f"共 {frame.height} 条 (total)")
    return 0


def load_finding(engine, user: User, fid: str) -> tuple[dict, list[dict], list[dict]]:
    finding, occ, events = followup.history(engine, fid)
    user.require_street(followup.street_of(finding))
    return finding, occ, events


def open_finding(args, action: str):
    """Session, read permission, the finding (street-checked) and its access-log entry."""
    engine, user = session(args)
    user.require("read")
    unmasked = user.unmasked(args.unmasked)
    finding, occ, events = load_finding(engine, user, args.finding_id)
    log_access(engine, user, action, target=args.finding_id, unmasked=unmasked)
    return user, unmasked, finding, occ, events


def handle_show(args) -> int:
    user, unmasked, finding, occ, events = open_finding(args, "findings.show")
    m = (lambda t: t) if unmasked else mask_text
    label = vocab.FINDING_STATUS_LABELS[finding["status"]]
    print(f"{finding['finding_id']}  规则 {finding['rule']}  状态 {finding['status']}（{label}）"
          f"{'  复发 recurring' if finding['recurring'] else ''}")
    print(f"街镇 {finding['street'] or '-'}  领款人 {m(finding['person_id']) or '-'}  工号 {finding['staff_id'] or '-'}"
          f"  交办 {finding['assigned_street'] or '-'} {finding['assignee'] or ''}  期限 {finding['due_date'] or '-'}")
    if finding["amount_recovered_fen"] is not None:
        print(f"追回金额 {fen_to_yuan(finding['amount_recovered_fen'])} 元")
    print("\n各月发现 (occurrences):")
    for o in occ:
        print(f"  {o['month']}  {fen_to_yuan(o['amount_fen']) if o['amount_fen'] is not None else '-':>12}  "
              f"{m(o['title'])}")
    if occ:
        print("\n最近证据 (latest evidence):")
        try:
            pretty = json.dumps(json.loads(occ[-1]["evidence"]), ensure_ascii=False, indent=2)
        except ValueError:
            pretty = occ[-1]["evidence"]
        print(m(pretty))
    print("\n处理记录 (events, UTC):")
    for e in events:
        amount = f" 追回 {fen_to_yuan(e['amount_fen'])} 元" if e["amount_fen"] is not None else ""
        print(f"  {followup.utc_text(e['at'])}  {e['actor']}  {e['action']}  "
              f"{e['from_status'] or ''}→{e['to_status'] or ''}{amount}  {m(e['note']) or ''}")
    return 0


def _each(args, user: User, engine, permission: str, fn) -> int:
    """Apply ``fn(fid, finding)`` to every given finding after checking role and street."""
    user.require(permission)
    for fid in args.finding_id:
        finding, _, _ = load_finding(engine, user, fid)
        fn(fid, finding)
        log_access(engine, user, f"findings.{args.findings_command}", target=fid)
        print(f"{fid}: 已更新 (updated)")
    return 0


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AuditInputError(f"{what} {value!r} 不是日期 (expected YYYY-MM-DD)") from None


def handle_assign(args) -> int:
    engine, user = session(args)
    days = load_profile(args.config).rectification_days
    due = _date(args.due, "--due") if args.due else date.fromordinal(date.today().toordinal() + days)
    return _each(args, user, engine, "assign", lambda fid, f: followup.assign(
        engine, fid, street=args.street or f["street"], person=args.person, due=due, actor=user.name,
        note=args.note))


def handle_update(args) -> int:
    engine, user = session(args)
    if not (args.status or args.note):
        raise AuditInputError("请给出 --status 或 --note (nothing to update)")

    def apply(fid, _finding):
        if args.status:
            followup.start(engine, fid, actor=user.name, note=args.note)
        else:
            followup.add_note(engine, fid, actor=user.name, note=args.note)
    return _each(args, user, engine, "update", apply)


def handle_close(args) -> int:
    engine, user = session(args)
    if args.outcome == "confirmed":
        user.require("confirm")
    recovered = None
    if args.recovered is not None:
        try:
            recovered = to_fen(Decimal(args.recovered))
        except (InvalidOperation, ValueError):
            raise AuditInputError(f"--recovered {args.recovered!r} 不是金额 (expected yuan, e.g. 1200.50)") from None
    return _each(args, user, engine, "close", lambda fid, _f: followup.close(
        engine, fid, args.outcome, actor=user.name, reason=args.reason, recovered_fen=recovered))


def handle_import(args) -> int:
    engine, user = session(args)
    user.require("import")
    counts = importer.import_issues(engine, Path(args.file), actor=user.name,
                                    only_street=user.street if user.role == "street" else None,
                                    rectification_days=load_profile(args.config).rectification_days)
    log_access(engine, user, "findings.import", target=str(args.file), detail=counts)
    print("导入完成 (imported): " + ("，".join(f"{k} {v}" for k, v in sorted(counts.items())) or "无填写行"))
    return 0


def handle_dossier(args) -> int:
    from auditor.followup.dossier import render_dossier

    user, unmasked, finding, occ, events = open_finding(args, "findings.dossier")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_dossier(finding, occ, events, unmasked=unmasked, viewer=user), encoding="utf-8")
    print(f"案卷 (dossier): {out}")
    return 0
