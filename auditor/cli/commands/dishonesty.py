"""``dishonesty`` — the list of active dishonesty records to publish to the joint-meeting member units."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.cli import args as a
from auditor.services.publications import dishonesty_list


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dishonesty", help="导出本月有效失信名单 (publish the active dishonesty list)")
    a.month(p)
    a.data(p)
    a.out(p, "输出目录，默认 out/<月份>/")
    a.config(p)
    a.acting_user(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    month = a.the_month(args)
    listed = dishonesty_list(a.session(args), data_dir=args.data, month=month, profile=a.profile(args),
                             out_dir=a.out_path(args, Path("out") / month))
    print(f"{month} 有效失信记录 {listed.records} 条：{listed.csv}，{listed.xlsx}")
    return 0
