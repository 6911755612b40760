"""Arguments several commands share, declared once, and the session they open."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.core.config import Profile, load_profile
from auditor.core.periods import parse_month
from auditor.services.session import Session, open_session
from auditor.services.session import operator_session as open_operator_session

Parser = argparse.ArgumentParser


def month(p: Parser, *, required: bool = True, default: str | None = None, help: str = "月份 YYYY-MM") -> None:
    p.add_argument("--month", required=required, default=default, help=help)


def data(p: Parser, help: str = "数据包目录 (data drop folder)") -> None:
    p.add_argument("--data", required=True, help=help)


def out(p: Parser, help: str, default: str | None = None) -> None:
    p.add_argument("--out", default=default, help=help)


def config(p: Parser) -> None:
    p.add_argument("--config", default=None, help="配置名（config/ 下，如 changning、datonghu）或文件路径")


def db(p: Parser) -> None:
    p.add_argument("--db", default=None, help="SQLAlchemy 数据库地址，默认内嵌 SQLite (out/auditor.db)")


def acting_user(p: Parser) -> None:
    """``--db`` and ``--user``: the store and the acting user of a follow-up command."""
    db(p)
    p.add_argument("--user", default=None, help="操作人（或环境变量 AUDITOR_USER）")


def operator(p: Parser) -> None:
    """``--user`` for ``run``, ``demo`` and ``schedule``: falls back to AUDITOR_USER, then the operating-system user."""
    p.add_argument("--user", default=None, help="操作人（或环境变量 AUDITOR_USER，否则为操作系统用户）")


def unmasked(p: Parser) -> None:
    p.add_argument("--unmasked", action="store_true", help="显示完整证件号（仅审计、纪检，记入访问日志）")


def the_month(args: argparse.Namespace) -> str:
    return parse_month(args.month)


def profile(args: argparse.Namespace) -> Profile:
    return load_profile(args.config)


def session(args: argparse.Namespace) -> Session:
    return open_session(args.db, args.user)


def operator_session(args: argparse.Namespace, db_url: str | None = None) -> Session:
    return open_operator_session(db_url or args.db, args.user)


def out_path(args: argparse.Namespace, default: Path) -> Path:
    return Path(args.out) if args.out else default
