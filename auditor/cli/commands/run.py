"""``run`` — one monthly audit (outputs.md)."""

from __future__ import annotations

import re
from pathlib import Path

from auditor.jobs.monthly import run_audit
from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.jobs.scheduler import month_lock


def month_arg(value: str) -> str:
    """Accept ``YYYY-MM`` (and the other month forms of the contract) as ``YYYY-MM``."""
    m = re.fullmatch(r"(\d{4})(?:[-/年]?)(\d{1,2})月?", value.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise AuditInputError(f"--month {value!r} 不是有效月份，应为 YYYY-MM (expected YYYY-MM)")
    return f"{m.group(1)}-{int(m.group(2)):02d}"


def add_common(p) -> None:
    p.add_argument("--config", default=None, help="配置名（config/ 下，如 changning、datonghu）或文件路径")
    p.add_argument("--db", default=None, help="SQLAlchemy 数据库地址，默认内嵌 SQLite (out/auditor.db)")


def register(sub) -> None:
    p = sub.add_parser("run", help="运行一个月的审计 (run one monthly audit)")
    p.add_argument("--month", required=True, help="审计月份 YYYY-MM")
    p.add_argument("--data", required=True, help="数据包目录 (data drop folder)")
    p.add_argument("--out", default=None, help="输出目录，默认 out/<月份>/")
    add_common(p)
    p.set_defaults(handler=handle)


def handle(args) -> int:
    month = month_arg(args.month)
    profile = load_profile(args.config)
    out = Path(args.out) if args.out else Path("out") / month
    with month_lock(args.db, month, profile.schedule.lock_stale_hours):
        result = run_audit(month=month, data_dir=args.data, out_dir=out, profile=profile, db_url=args.db)
    print_summary(result)
    return 0


def print_summary(result) -> None:
    s = result.summary
    print(f"审计完成 {s['month']}（{s['district']}）：发现问题线索 {s['findings']['total']} 条，"
          f"隔离输入行 {s['quarantined_rows']} 行，未运行检查 {len(s['checks_not_run'])} 项。")
    print(f"报告 (report): {result.out_dir / 'report.html'}")
    print(f"问题清单 (issue list): {result.out_dir / 'issues.xlsx'}")
