"""``screen`` — 支付前筛查: hold payments before they reach the bank.

Exit 0 when nothing is held, 1 when something is held (so a payment workflow
can gate on it), 2 on unusable input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.cli import args as a
from auditor.core.money import fen_to_yuan
from auditor.core.periods import parse_month
from auditor.jobs.screen import REASON_LABELS
from auditor.services.checks import screen_payments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screen", help="支付前筛查，输出暂停支付清单 (pre-payment screening; exit 1 when held)")
    p.add_argument("--payments", required=True, help="待支付的发放指令文件（payments 表格式，CSV/XLSX/Parquet）")
    a.data(p, "数据包目录（cases、members 及共享信息表）")
    a.month(p, required=False, help="只筛查该所属月份的指令 YYYY-MM（默认全部）")
    a.out(p, "暂停支付清单 CSV 路径（同名 .xlsx 一并生成）", default="hold_list.csv")
    a.config(p)
    a.acting_user(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    month = parse_month(args.month) if args.month else None
    screening = screen_payments(a.session(args), payments=args.payments, data_dir=args.data,
                                profile=a.profile(args), month=month, out=Path(args.out))
    result, held = screening.result, screening.result.holds
    print(f"支付前筛查：共筛查 {result.screened} 笔指令，暂停 {held.height} 笔"
          f"（合计 {fen_to_yuan(result.held_fen)} 元）。 (screened {result.screened}, held {held.height})")
    for code, n in result.counts().items():
        print(f"  {REASON_LABELS[code]} ({code}): {n} 笔")
    if result.ignored_other_months:
        print(f"  其他月份指令 {result.ignored_other_months} 笔未筛查 (other months skipped)")
    for line in result.not_checked:
        print(f"  未检查 (not checked): {line}")
    print(f"暂停支付清单 (hold list): {', '.join(str(p) for p in screening.files)}")
    return 1 if held.height else 0
