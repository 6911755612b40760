"""``schedule`` — run the monthly audit when each month's drop arrives (see ``auditor.scheduler``)."""

from __future__ import annotations

import logging

from auditor.core.config import load_profile
from auditor.jobs.scheduler import cycle, serve


def register(sub) -> None:
    p = sub.add_parser("schedule", help="定时任务：数据到达后自动月度审计、季度比对、逾期提醒 (scheduler)")
    p.add_argument("--config", default=None, help="配置名或文件（[schedule] 节）")
    p.add_argument("--once", action="store_true", help="只检查一次后退出 (one pass, then exit)")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    profile = load_profile(args.config)
    logging.getLogger("auditor").setLevel(logging.INFO)
    if args.once:
        done = cycle(profile)
        for month, ok in done.items():
            print(f"{month}: {'完成 (done)' if ok else '失败 (failed)'}")
        if not done:
            print("没有待审计的月份 (nothing due)")
        return 0 if all(done.values()) else 1
    serve(profile)
    return 0  # pragma: no cover
