"""``access-log verify`` — check the hash chain of the access log (exit 1 at the first broken entry)."""

from __future__ import annotations

import argparse
import sys

from auditor.cli import args as a
from auditor.services.admin import verify_access_log


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("access-log", help="访问日志 (access log: verify)")
    al = p.add_subparsers(dest="access_log_command", required=True, metavar="SUBCOMMAND")
    v = al.add_parser("verify", help="校验访问日志哈希链 (verify the hash chain)")
    a.acting_user(v)
    v.set_defaults(handler=handle_verify)


def handle_verify(args: argparse.Namespace) -> int:
    check = verify_access_log(a.session(args))
    if check.broken_at is not None:
        print(f"访问日志校验失败 (access log broken) at entry {check.broken_at}: {check.detail}"
              f"（已检查 {check.entries} 条）", file=sys.stderr)
        return 1
    print(f"访问日志完整 (access log intact): {check.entries} 条，末条哈希 (head hash) {check.detail}")
    return 0
