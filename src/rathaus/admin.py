"""``rathaus admin …``: rooms and accounts, straight on the database."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rathaus import datadir
from rathaus.accounts.service import AccountService
from rathaus.config import Settings
from rathaus.db.engine import create_engine, migrate, sessionmaker
from rathaus.errors import BadMessage
from rathaus.rooms.service import RoomService

T = TypeVar("T")
Services = tuple[RoomService, AccountService]


def _run(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    async def run() -> T:
        datadir.prepare(settings)  # private: 0700, the database 0600
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
            sessions = sessionmaker(engine)
            accounts = AccountService(sessions, settings.accounts)
            return await work((RoomService(sessions, adhoc=False), accounts))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _password(args: argparse.Namespace) -> str | None:
    """From standard input (--password-stdin), typed twice at a terminal, or none (sign-in
    through OIDC or LDAP only)."""
    if args.no_password:
        return None
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise BadMessage("give the password with --password-stdin, or --no-password")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise BadMessage("the two passwords differ")
    return first


def create_room(settings: Settings, args: argparse.Namespace) -> int:
    room = _run(settings, lambda s: s[0].create(args.name, args.slug))
    print(f"Room created: /r/{room.slug}")
    return 0


def create_user(settings: Settings, args: argparse.Namespace) -> int:
    password = _password(args)
    user = _run(
        settings,
        lambda s: s[1].create_user(args.username, password, args.display_name, admin=args.admin),
    )
    print(f"User created: {user.username} ({user.role})")
    return 0


def grant_admin(settings: Settings, args: argparse.Namespace) -> int:
    user = _run(settings, lambda s: s[1].set_admin(args.username, not args.revoke))
    print(f"{user.username} is now {'an administrator' if user.is_admin else 'a member'}")
    return 0


def list_users(settings: Settings, args: argparse.Namespace) -> int:
    for user in _run(settings, lambda s: s[1].list_users()):
        print(f"{user.username}\t{user.role}\t{user.provider}\t{user.display_name}")
    return 0


def delete_user(settings: Settings, args: argparse.Namespace) -> int:
    _run(settings, lambda s: s[1].delete_user(args.username))
    print(f"User deleted: {args.username}")
    return 0


def add_commands(
    admin_commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    with_server_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    def command(name: str, help_: str, handler: Callable[..., int]) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = admin_commands.add_parser(name, help=help_)
        with_server_options(sub)
        sub.set_defaults(admin_handler=handler)
        return sub

    room = command("create-room", "create a room", create_room)
    room.add_argument("name", help="the room's name, e.g. 'Bezirksausschuss 3'")
    room.add_argument("--slug", help="the link name (default: derived from the name)")

    user = command("create-user", "create a local account", create_user)
    user.add_argument("username")
    user.add_argument("--display-name", default="", help="the name others see")
    user.add_argument("--admin", action="store_true", help="make the user an administrator")
    how = user.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    how.add_argument("--no-password", action="store_true", help="no local password")

    grant = command("grant-admin", "make a user an administrator", grant_admin)
    grant.add_argument("username")
    grant.add_argument("--revoke", action="store_true", help="make an administrator a member")

    command("list-users", "list the accounts", list_users)
    delete = command("delete-user", "delete an account and its sessions", delete_user)
    delete.add_argument("username")
