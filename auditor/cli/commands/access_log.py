"""``access-log verify`` — check the hash chain of the access log (exit 1 at the first broken entry)."""

from __future__ import annotations

import sys

from auditor.cli.commands.findings import add_user_args, session
from auditor.followup.privacy import log_access, verify_log


def register(sub) -> None:
    p = sub.add_parser("access-log", help="访问日志 (access log: verify)")
    al = p.add_subparsers(dest="access_log_command", required=True, metavar="SUBCOMMAND")
    v = al.add_parser("verify", help="校验访问日志哈希链 (verify the hash chain)")
    add_user_args(v)
    v.set_defaults(handler=handle_verify)


def handle_verify(args) -> int:
    engine, user = session(args)
    user.require("verify")
    checked, broken, why = verify_log(engine)  # why: the head hash when intact
    if broken is not None:
        print(f"访问日志校验失败 (access log broken) at entry {broken}: {why}（已检查 {checked} 条）", file=sys.stderr)
        return 1
    log_access(engine, user, "access_log.verify", detail={"entries": checked})
    print(f"访问日志完整 (access log intact): {checked} 条，末条哈希 (head hash) {why}")
    return 0
