"""``office-report`` — the monthly report for the joint-meeting office, from the store."""

from __future__ import annotations

from pathlib import Path

from auditor.cli.commands.findings import add_user_args, session
from auditor.cli.commands.run import month_arg
from auditor.core.config import load_profile
from auditor.followup.office import build_office_report, render_office_report
from auditor.followup.privacy import log_access


def register(sub) -> None:
    p = sub.add_parser("office-report", help="联席会议办公室月报 (monthly office report: trend, progress, scorecard)")
    p.add_argument("--month", required=True, help="报告月份 YYYY-MM")
    p.add_argument("--out", default=None, help="输出 HTML，默认 out/<月份>/office-report.html")
    p.add_argument("--config", default=None)
    add_user_args(p)
    p.set_defaults(handler=handle)


def handle(args) -> int:
    month = month_arg(args.month)
    engine, user = session(args)
    user.require("report")
    report = build_office_report(engine, month, district=load_profile(args.config).district)
    log_access(engine, user, "office_report", target=month)
    out = Path(args.out) if args.out else Path("out") / month / "office-report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_office_report(report), encoding="utf-8")
    print(f"联席会议办公室月报 (office report): {out}")
    return 0
