"""``quarterly`` — 按季度开展信息共享核查 (E01–E05 over the quarter's three months)."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.cli import args as a
from auditor.services.checks import quarterly_check


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quarterly", help="按季度信息共享核查 (quarterly information-sharing checks E01–E05)")
    p.add_argument("--quarter", required=True, help="季度，如 2026Q3")
    a.data(p, "数据包目录 (data drop folder with the quarter's history)")
    a.out(p, "输出目录，默认 out/<季度>/")
    a.config(p)
    a.acting_user(p)
    a.unmasked(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    result = quarterly_check(a.session(args), quarter=args.quarter, data_dir=args.data, profile=a.profile(args),
                             out_dir=Path(args.out) if args.out else None, unmasked=args.unmasked)
    d = result.data
    print(f"季度信息共享核查 {d.quarter}（{d.district}，{'、'.join(d.months)}）：线索 {d.total_clues} 条，"
          f"未运行检查 {len(d.not_run)} 项。")
    print(f"报告 (report): {result.out_dir / 'quarterly.html'}")
    print(f"清单 (CSV): {result.out_dir / 'quarterly.csv'}")
    return 0
