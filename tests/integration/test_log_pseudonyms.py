"""Every lockout in the log names what it locked by the installation's pseudonym: keyed with the
installation's secret, so the same across restarts, different in another installation, and not
to be found by hashing the addresses or user names one suspects."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import httpx

from rathaus.errors import ErrorCode
from rathaus.secrets_store import Pseudonyms, load_or_create_key
from tests.support.bot import Bot
from tests.support.http import assert_refused
from tests.support.logs import server_log
from tests.support.server import RunningServer, running_server, server_settings, shared_janus

LOCKED = re.compile(r"^(?P<what>.+) locked for .* \(key (?P<key>\w+)\)$")


def lockouts(records: list[logging.LogRecord]) -> dict[str, set[str]]:
    """The pseudonyms in the log's lockout lines, by what was locked (sign-in, room password)."""
    found: dict[str, set[str]] = {}
    for record in records:
        if match := LOCKED.match(record.getMessage()):
            found.setdefault(match["what"], set()).add(match["key"])
    return found


async def lock_out(server: RunningServer, data: Path) -> dict[str, set[str]]:
    """Start an installation in ``data``; lock a sign-in and a room password; what the log says."""
    settings = server_settings(
        data, janus=shared_janus(server), accounts={"max_failures": 3, "lockout_seconds": 60}
    )
    with server_log() as log:
        async with running_server(settings) as rathaus:
            accounts, rooms = rathaus.services.accounts, rathaus.services.rooms
            if not await accounts.list_users():
                admin = await accounts.create_user("admin", "a long password 1", admin=True)
                await rooms.create("Rat", "rat")
                await rooms.update("rat", admin, password="Rathaus 2026!")
            async with httpx.AsyncClient(base_url=rathaus.http) as http:
                for _ in range(3):
                    wrong = {"username": "dora", "password": "not her password"}
                    answer = await http.post("/api/session", json=wrong)
                    assert_refused(answer, 401, ErrorCode.AUTHENTICATION_FAILED)
            guest = Bot(rathaus.ws, "rat", "Gast")
            try:
                for _ in range(5):
                    await guest.knock(password="falsch")
                    assert (await guest.expect("error"))["code"] == "wrong_password"
            finally:
                await guest.close()
    found = lockouts(log)
    assert set(found) == {"sign-in", "room password"}, found
    return found


async def test_lockouts_are_logged_under_the_installations_pseudonyms(
    server: RunningServer, tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    logged = await lock_out(server, first)
    pseudonyms = Pseudonyms(load_or_create_key(first))
    assert logged["sign-in"] == {pseudonyms("user:dora"), pseudonyms("address:127.0.0.1")}
    unkeyed = {
        hashlib.sha256(k.encode()).hexdigest()[:10] for k in ("user:dora", "address:127.0.0.1")
    }
    assert not any(u in p for u in unkeyed for p in logged["sign-in"])

    # The same installation, restarted: the same pseudonyms, the door's included.
    assert await lock_out(server, first) == logged
    # Another installation (another secret key): other pseudonyms for the same keys.
    other = await lock_out(server, second)
    for what in logged:
        assert not logged[what] & other[what], what
