"""``access-log verify [--reanchor]`` — check the keyed chain and its anchor; one line, Chinese.

Exit 0 intact (or re-anchored), 1 broken (tampered, truncated, wrong key or
missing anchor), 3 anchor behind the log after a crash (not tampering).
"""

from __future__ import annotations

import argparse
import sys

from auditor.cli import args as a
from auditor.services.admin import verify_access_log

EXIT = {"intact": 0, "broken": 1, "behind": 3}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("access-log", help="访问日志 (access log: verify)")
    al = p.add_subparsers(dest="access_log_command", required=True, metavar="SUBCOMMAND")
    v = al.add_parser("verify", help="校验访问日志的密钥签名链与锚点 (verify the keyed chain and its anchor)")
    a.acting_user(v)
    v.add_argument("--reanchor", action="store_true",
                   help="核查后按日志末条重新锚定（仅审计人员，记入日志）(re-anchor after a crash gap)")
    v.set_defaults(handler=handle_verify)


def handle_verify(args: argparse.Namespace) -> int:
    check = verify_access_log(a.session(args), reanchor=args.reanchor)
    line = check.message()
    if args.reanchor and check.state == "intact":
        line = f"已重新锚定访问日志：末条第 {check.head_seq} 条，共 {check.entries} 条"
    print(line, file=sys.stdout if check.state == "intact" else sys.stderr)
    return EXIT[check.state]
