"""``schedule`` — run the monthly audit when each month's drop arrives (see ``auditor.jobs.scheduler``)."""

from __future__ import annotations

import argparse
import logging

from auditor.cli import args as a
from auditor.jobs.scheduler import serve
from auditor.services.runs import scheduled_cycle


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schedule", help="定时任务：数据到达后自动月度审计、季度比对、逾期提醒 (scheduler)")
    a.config(p)
    a.operator(p)
    p.add_argument("--once", action="store_true", help="只检查一次后退出 (one pass, then exit)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    profile = a.profile(args)
    logging.getLogger("auditor").setLevel(logging.INFO)
    s = a.operator_session(args, profile.schedule.db)
    if args.once:
        done = scheduled_cycle(s, profile)
        for month, ok in done.items():
            print(f"{month}: {'完成 (done)' if ok else '失败 (failed)'}")
        if not done:
            print("没有待审计的月份 (nothing due)")
        return 0 if all(done.values()) else 1
    serve(profile, lambda: scheduled_cycle(s, profile))
    return 0  # pragma: no cover
