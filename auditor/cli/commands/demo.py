"""``demo`` — generate the synthetic 长宁区 drop and run the audit on it."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.cli import args as a
from auditor.cli.commands.run import print_summary
from auditor.cli.commands.serve import serve, server
from auditor.core.vocab import USER_ROLE_LABELS
from auditor.services.admin import demo_accounts
from auditor.services.runs import run_demo


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="生成演示数据并运行审计 (generate demo data and run the audit)")
    a.out(p, "输出目录，默认 out/demo", default="out/demo")
    a.month(p, required=False, default="2026-10", help="演示月份，默认 2026-10")
    p.add_argument("--cases", type=int, default=3000, help="案件数，默认 3000")
    a.db(p)
    a.operator(p)
    p.add_argument("--serve", action="store_true",
                   help="审计完成后启动网页服务，并为每个角色开通演示账户（打印一次性密码）")
    server(p)
    p.set_defaults(handler=handle, config=None)


def handle(args: argparse.Namespace) -> int:
    month = a.the_month(args)
    out = Path(args.out)
    print(f"生成演示数据 (generating demo drop): {out / 'drop'}")
    demo = run_demo(a.operator_session(args), out=out, month=month, cases=args.cases, db_url=args.db)
    print_summary(demo.audit)
    print(f"埋点真值 (planted truth): {demo.truth}")
    if not args.serve:
        return 0
    print("演示账户（一次性密码，仅显示这一次，首次登录须修改）(demo accounts, one-time passwords):")
    for issued in demo_accounts(args.db):
        u = issued.user
        print(f"  {USER_ROLE_LABELS[u.role]:<8}\t{u.name:<16}\t{issued.one_time_password}\t{u.street or ''}")
    return serve(args)
