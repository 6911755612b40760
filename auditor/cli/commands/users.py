"""``users`` — who may use the follow-up commands and with which role (see ``auditor.privacy``)."""

from __future__ import annotations

from auditor import store
from auditor.core.errors import AuditInputError
from auditor.cli.commands.findings import add_user_args
from auditor.core.vocab import USER_ROLE_LABELS, USER_ROLES
from auditor.followup.privacy import add_user, count_users, current_user, list_users, log_access


def register(sub) -> None:
    p = sub.add_parser("users", help="用户与角色 (users and roles: add/list)")
    us = p.add_subparsers(dest="users_command", required=True, metavar="SUBCOMMAND")
    a = us.add_parser("add", help="添加用户（第一个用户须为 auditor；之后由 auditor 添加）")
    add_user_args(a)
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=USER_ROLES)
    a.add_argument("--street", help="街镇经办绑定的街镇 (required for role street)")
    a.set_defaults(handler=handle_add)
    ls = us.add_parser("list", help="列出用户")
    add_user_args(ls)
    ls.set_defaults(handler=handle_list)


def handle_add(args) -> int:
    engine = store.connect(args.db)
    if count_users(engine) == 0:
        if args.role != "auditor":
            raise AuditInputError("第一个用户必须是 auditor (the first user must be an auditor)")
        user = add_user(engine, args.name, args.role, args.street)
        log_access(engine, user, "users.add", target=args.name, detail={"role": args.role})
    else:
        actor = current_user(engine, args.user)
        actor.require("users")
        add_user(engine, args.name, args.role, args.street)
        log_access(engine, actor, "users.add", target=args.name, detail={"role": args.role, "street": args.street})
    print(f"已添加用户 {args.name}（{USER_ROLE_LABELS[args.role]}{' ' + args.street if args.street else ''}）")
    return 0


def handle_list(args) -> int:
    engine = store.connect(args.db)
    actor = current_user(engine, args.user)
    actor.require("users")
    log_access(engine, actor, "users.list")
    for u in list_users(engine):
        print(f"{u.name}\t{u.role}\t{USER_ROLE_LABELS[u.role]}\t{u.street or ''}")
    return 0
