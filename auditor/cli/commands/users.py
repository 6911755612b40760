"""``users`` — accounts: who may use the auditor, with which role, and their passwords."""

from __future__ import annotations

import argparse
import sys

from auditor.cli import args as a
from auditor.core.errors import AuditInputError
from auditor.core.vocab import USER_ROLE_LABELS, USER_ROLES
from auditor.services.admin import NewPassword, add_user, disable_user, list_users, reset_user, set_user


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="用户与账户 (accounts: add/list/reset/disable/set)")
    us = p.add_subparsers(dest="users_command", required=True, metavar="SUBCOMMAND")
    add = us.add_parser("add", help="添加用户并生成一次性密码（第一个用户须为 auditor；之后由 auditor 添加）")
    a.acting_user(add)
    a.config(add)
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=USER_ROLES)
    add.add_argument("--street", help="街镇经办绑定的街镇 (required for role street)")
    add.add_argument("--password-stdin", action="store_true",
                     help="从标准输入读取初始密码（脚本开通账户用），不生成一次性密码")
    add.set_defaults(handler=handle_add)
    ls = us.add_parser("list", help="列出用户")
    a.acting_user(ls)
    ls.set_defaults(handler=handle_list)
    reset = us.add_parser("reset", help="重置密码：生成新的一次性密码，解除锁定，结束其会话")
    a.acting_user(reset)
    a.config(reset)
    reset.add_argument("name")
    reset.set_defaults(handler=handle_reset)
    disable = us.add_parser("disable", help="停用账户并结束其会话")
    a.acting_user(disable)
    disable.add_argument("name")
    disable.set_defaults(handler=handle_disable)
    set_ = us.add_parser("set", help="更改角色或街镇")
    a.acting_user(set_)
    set_.add_argument("name")
    set_.add_argument("--role", required=True, choices=USER_ROLES)
    set_.add_argument("--street", help="街镇经办绑定的街镇 (required for role street)")
    set_.set_defaults(handler=handle_set)


def _label(role: str, street: str | None) -> str:
    return f"{USER_ROLE_LABELS[role]}{' ' + street if street else ''}"


def _print_password(new: NewPassword) -> None:
    if new.one_time_password:
        print(f"一次性密码 (one-time password, shown once): {new.one_time_password}")
        print("首次登录须修改密码 (must be changed at first sign-in)")


def handle_add(args: argparse.Namespace) -> int:
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise AuditInputError("--password-stdin: 标准输入没有密码 (no password on standard input)")
    new = add_user(args.db, args.user, name=args.name, role=args.role, street=args.street, password=password,
                   web=a.profile(args).web)
    print(f"已添加用户 {args.name}（{_label(args.role, args.street)}）")
    _print_password(new)
    return 0


def handle_list(args: argparse.Namespace) -> int:
    for u in list_users(a.session(args)):
        print(f"{u.name}\t{u.role}\t{USER_ROLE_LABELS[u.role]}\t{u.street or ''}")
    return 0


def handle_reset(args: argparse.Namespace) -> int:
    new = reset_user(a.session(args), args.name, web=a.profile(args).web)
    print(f"已重置用户 {args.name} 的密码，其会话已结束")
    _print_password(new)
    return 0


def handle_disable(args: argparse.Namespace) -> int:
    disable_user(a.session(args), args.name)
    print(f"已停用用户 {args.name}，其会话已结束")
    return 0


def handle_set(args: argparse.Namespace) -> int:
    user = set_user(a.session(args), args.name, role=args.role, street=args.street)
    print(f"已将用户 {user.name} 设为 {_label(user.role, user.street)}")
    return 0
