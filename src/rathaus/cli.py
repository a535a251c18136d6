"""Command line: ``rathaus serve | admin | doctor``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from rathaus import admin as admin_commands
from rathaus.config import Settings, load_settings
from rathaus.errors import ConfigError, RathausError
from rathaus.logs import DropClientAddresses, configure_logging
from rathaus.serving import uvicorn_options


def _settings(args: argparse.Namespace) -> Settings:
    server: dict[str, Any] = {}
    for key in ("host", "port", "data_dir"):
        value = getattr(args, key, None)
        if value is not None:
            server[key] = value
    return load_settings(args.config, overrides={"server": server} if server else None)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from rathaus.app import create_app

    settings = _settings(args)
    app = create_app(settings)
    config = uvicorn.Config(app, log_level="info", **uvicorn_options(settings))
    if not settings.server.access_log:  # after uvicorn.Config, which sets up its loggers
        logging.getLogger("uvicorn.error").addFilter(DropClientAddresses())
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.05)
        if server.started:
            host = settings.server.host
            shown = f"[{host}]" if ":" in host else host
            port = server.servers[0].sockets[0].getsockname()[1] if server.servers else 0
            print(f"Rathaus is running at http://{shown}:{port}/", flush=True)
        await task

    asyncio.run(run())
    return 0 if server.started else 1


def admin(args: argparse.Namespace) -> int:
    result: int = args.admin_handler(_settings(args), args)
    return result


def doctor(args: argparse.Namespace) -> int:
    from rathaus.doctor import run_checks

    settings = _settings(args)
    results = asyncio.run(run_checks(settings))
    for result in results:
        print(f"[{'ok' if result.ok else 'FAIL'}] {result.name}: {result.detail}")
    return 0 if all(r.ok for r in results) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rathaus", description="Rathaus meeting server")
    parser.add_argument("--config", type=Path, help="path of rathaus.toml")
    commands = parser.add_subparsers(dest="command", required=True)

    def with_server_options(sub: argparse.ArgumentParser, *, listen: bool) -> None:
        sub.add_argument("--data-dir", type=Path, help="where Rathaus keeps its data")
        if listen:
            sub.add_argument("--host", help="address to listen on (default 127.0.0.1)")
            sub.add_argument("--port", type=int, help="port to listen on (default 8080)")

    p_serve = commands.add_parser("serve", help="run the server")
    with_server_options(p_serve, listen=True)
    p_serve.set_defaults(handler=serve)

    p_admin = commands.add_parser("admin", help="rooms and accounts")
    p_admin.set_defaults(handler=admin)
    admin_commands.add_commands(
        p_admin.add_subparsers(dest="admin_command", required=True),
        lambda sub: with_server_options(sub, listen=False),
    )

    p_doctor = commands.add_parser("doctor", help="check the installation and say what is wrong")
    with_server_options(p_doctor, listen=True)
    p_doctor.set_defaults(handler=doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # `serve` logs what it does; `admin` and `doctor` print their result and, on an error, the one
    # line below, without Alembic's INFO lines about each migration step.
    configure_logging(level=logging.INFO if args.command == "serve" else logging.WARNING)
    try:
        result: int = args.handler(args)
        return result
    except (ConfigError, RathausError) as exc:
        print(f"rathaus: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
