"""Command line: ``python run_audit.py <command>`` (also the ``run-audit`` script).

Each command lives in ``auditor/commands/<name>.py`` with ``register(subparsers)``
that adds its parser and sets ``handler``. Unusable input ends with exit 2 and
a message naming the file and column, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from auditor.core.config import load_profile
from auditor.core.errors import AuditInputError
from auditor.followup import logseal

COMMANDS = ("run", "demo", "graph", "dishonesty", "screen", "quarterly", "findings", "users", "access_log",
            "office_report", "schedule", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_audit.py",
        description="社会救助资金监管审计 (fund-integrity auditor for social assistance)")
    parser.add_argument("-v", "--verbose", action="store_true", help="显示详细日志 (log each stage)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"auditor.cli.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        logseal.configure(load_profile(getattr(args, "config", None)).access_log_key)
        return int(args.handler(args) or 0)
    except AuditInputError as exc:
        print(f"错误 (error): {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
