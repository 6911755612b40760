"""``graph`` — a look-up: one person's or staff member's relationship neighbourhood page (logged, masked by role)."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.cli import args as a
from auditor.core.private import private_dir, safe_name, write_private_text
from auditor.services.lookup import graph_page


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("graph", help="查询人员或工作人员的关系图 (relationship look-up)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", help="身份证号 (person id)")
    who.add_argument("--staff", help="工号 (staff id)")
    a.data(p)
    a.month(p)
    a.config(p)
    a.out(p, "输出 HTML 文件，默认 out/<月份>/graph-<编号>.html")
    a.acting_user(p)
    a.unmasked(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    month = a.the_month(args)
    html = graph_page(a.session(args), data_dir=args.data, month=month, profile=a.profile(args),
                      person_id=args.person, staff_id=args.staff, unmasked=args.unmasked)
    out = a.out_path(args, Path("out") / month / f"graph-{safe_name(args.person or args.staff)}.html")
    private_dir(out.parent)
    write_private_text(out, html)
    print(f"关系图 (relationship page): {out}")
    return 0
