"""``demo`` — generate the synthetic 长宁区 drop and run the audit on it."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.cli import args as a
from auditor.cli.commands.run import print_summary
from auditor.services.runs import run_demo


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="生成演示数据并运行审计 (generate demo data and run the audit)")
    a.out(p, "输出目录，默认 out/demo", default="out/demo")
    a.month(p, required=False, default="2026-10", help="演示月份，默认 2026-10")
    p.add_argument("--cases", type=int, default=3000, help="案件数，默认 3000")
    a.db(p)
    a.operator(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    month = a.the_month(args)
    out = Path(args.out)
    print(f"生成演示数据 (generating demo drop): {out / 'drop'}")
    demo = run_demo(a.operator_session(args), out=out, month=month, cases=args.cases, db_url=args.db)
    print_summary(demo.audit)
    print(f"埋点真值 (planted truth): {demo.truth}")
    return 0
