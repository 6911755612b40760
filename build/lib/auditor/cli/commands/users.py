"""``users`` — who may use the follow-up commands and with which role."""

from __future__ import annotations

import argparse

from auditor.cli import args as a
from auditor.core.vocab import USER_ROLE_LABELS, USER_ROLES
from auditor.services.admin import add_user, list_users


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="用户与角色 (users and roles: add/list)")
    us = p.add_subparsers(dest="users_command", required=True, metavar="SUBCOMMAND")
    add = us.add_parser("add", help="添加用户（第一个用户须为 auditor；之后由 auditor 添加）")
    a.acting_user(add)
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=USER_ROLES)
    add.add_argument("--street", help="街镇经办绑定的街镇 (required for role street)")
    add.set_defaults(handler=handle_add)
    ls = us.add_parser("list", help="列出用户")
    a.acting_user(ls)
    ls.set_defaults(handler=handle_list)


def handle_add(args: argparse.Namespace) -> int:
    add_user(args.db, args.user, name=args.name, role=args.role, street=args.street)
    print(f"已添加用户 {args.name}（{USER_ROLE_LABELS[args.role]}{' ' + args.street if args.street else ''}）")
    return 0


def handle_list(args: argparse.Namespace) -> int:
    for u in list_users(a.session(args)):
        print(f"{u.name}\t{u.role}\t{USER_ROLE_LABELS[u.role]}\t{u.street or ''}")
    return 0
