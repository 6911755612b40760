"""``run`` — one monthly audit (outputs.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.cli import args as a
from auditor.jobs.monthly import AuditResult
from auditor.services.runs import run_month


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="运行一个月的审计 (run one monthly audit)")
    a.month(p, help="审计月份 YYYY-MM")
    a.data(p)
    a.out(p, "输出目录，默认 out/<月份>/")
    a.config(p)
    a.db(p)
    a.operator(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    month = a.the_month(args)
    result = run_month(a.operator_session(args), month=month, data_dir=args.data,
                       out_dir=a.out_path(args, Path("out") / month), profile=a.profile(args), db_url=args.db)
    if result.notice:
        print(result.notice)
    print_summary(result)
    return 0


def print_summary(result: AuditResult) -> None:
    s = result.run
    print(f"审计完成 {s.month}（{s.district}）：发现问题线索 {s.findings.total} 条，"
          f"隔离输入行 {s.quarantined_rows} 行，未运行检查 {len(s.not_run)} 项。")
    print(f"报告 (report): {result.out_dir / 'report.html'}")
    print(f"问题清单 (issue list): {result.out_dir / 'issues.xlsx'}")
