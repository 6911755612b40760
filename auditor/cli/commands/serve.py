"""``serve`` — the web application: where people sign in with their own accounts."""

from __future__ import annotations

import argparse

from auditor.cli import args as a


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="启动网页服务 (serve the web application)")
    server(p)
    a.db(p)
    a.config(p)
    p.set_defaults(handler=handle)


def server(p: argparse.ArgumentParser) -> None:
    """``--host`` and ``--port`` of the web server."""
    p.add_argument("--host", default="127.0.0.1", help="监听地址，默认 127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="端口，默认 8000")


def serve(args: argparse.Namespace) -> int:
    """Run the web application on ``args.host``:``args.port`` over ``args.db`` until interrupted."""
    import uvicorn

    from auditor.web.app import create_app

    app = create_app(args.db, a.profile(args))
    print(f"网页服务 (web application): http://{args.host}:{args.port}/  （Ctrl+C 停止）", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def handle(args: argparse.Namespace) -> int:
    return serve(args)
