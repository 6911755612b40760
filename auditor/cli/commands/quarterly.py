"""``quarterly`` — 按季度开展信息共享核查 (E01–E05 over the quarter's three months)."""

from __future__ import annotations

from pathlib import Path

from auditor.core.config import load_profile
from auditor.core.periods import quarter_months
from auditor.jobs.quarterly import run_quarterly


def register(sub) -> None:
    p = sub.add_parser("quarterly", help="按季度信息共享核查 (quarterly information-sharing checks E01–E05)")
    p.add_argument("--quarter", required=True, help="季度，如 2026Q3")
    p.add_argument("--data", required=True, help="数据包目录 (data drop folder with the quarter's history)")
    p.add_argument("--out", default=None, help="输出目录，默认 out/<季度>/")
    p.add_argument("--config", default=None, help="配置名或文件路径")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    quarter_months(args.quarter)  # validate before loading anything
    out = Path(args.out) if args.out else Path("out") / args.quarter.upper().replace("-", "")
    result = run_quarterly(quarter=args.quarter, data_dir=args.data, out_dir=out, profile=load_profile(args.config))
    d = result.data
    print(f"季度信息共享核查 {d.quarter}（{d.district}，{'、'.join(d.months)}）：线索 {d.total_clues} 条，"
          f"未运行检查 {len(d.not_run)} 项。")
    print(f"报告 (report): {out / 'quarterly.html'}")
    print(f"清单 (CSV): {out / 'quarterly.csv'}")
    return 0
