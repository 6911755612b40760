"""``office-report`` — the monthly report for the joint-meeting office, from the store."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.cli import args as a
from auditor.core.private import private_dir, write_private_text
from auditor.services.publications import office_report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("office-report", help="联席会议办公室月报 (monthly office report: trend, progress, scorecard)")
    a.month(p, help="报告月份 YYYY-MM")
    a.out(p, "输出 HTML，默认 out/<月份>/office-report.html")
    a.config(p)
    a.acting_user(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    month = a.the_month(args)
    html = office_report(a.session(args), month, district=a.profile(args).district)
    out = a.out_path(args, Path("out") / month / "office-report.html")
    private_dir(out.parent)
    write_private_text(out, html)
    print(f"联席会议办公室月报 (office report): {out}")
    return 0
