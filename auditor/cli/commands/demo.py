"""``demo`` — generate the synthetic 长宁区 drop and run the audit on it."""

from __future__ import annotations

from pathlib import Path

from auditor.jobs.monthly import run_audit
from auditor.cli.commands.run import month_arg, print_summary
from auditor.core.config import load_profile
from auditor.demo import generate


def register(sub) -> None:
    p = sub.add_parser("demo", help="生成演示数据并运行审计 (generate demo data and run the audit)")
    p.add_argument("--out", default="out/demo", help="输出目录，默认 out/demo")
    p.add_argument("--month", default="2026-10", help="演示月份，默认 2026-10")
    p.add_argument("--cases", type=int, default=3000, help="案件数，默认 3000")
    p.add_argument("--db", default=None, help="数据库地址，默认内嵌 SQLite")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    month = month_arg(args.month)
    out = Path(args.out)
    drop = out / "drop"
    print(f"生成演示数据 (generating demo drop): {drop}")
    generate(drop, month=month, n_cases=args.cases)
    result = run_audit(month=month, data_dir=drop, out_dir=out / "report", profile=load_profile(None),
                       db_url=args.db)
    print_summary(result)
    print(f"埋点真值 (planted truth): {out / 'truth.csv'}")
    return 0
