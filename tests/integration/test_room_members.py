"""Room members over HTTP: owners add and remove colleagues by name, each a member from that
moment on; a member's rooms list them; a direct conversation is the room of exactly two. On a
server of its own: the shared one stays without accounts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from rathaus.errors import ErrorCode
from tests.support.bot import Bot
from tests.support.http import assert_refused
from tests.support.server import RunningServer, running_server, server_settings, shared_janus

PASSWORD = "a long password 1"
NAMES = {"olga": "Olga Owner", "mia": "Mia Member", "tom": "Tom Third"}


@pytest.fixture(scope="module")
async def world(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[RunningServer, dict[str, httpx.AsyncClient]]]:
    """A Rathaus with three accounts, each signed in over HTTP with the CSRF header."""
    settings = server_settings(
        tmp_path_factory.mktemp("members"),
        janus=shared_janus(server),
        meeting={"adhoc_rooms": None},
    )
    async with running_server(settings) as rathaus:
        browsers: dict[str, httpx.AsyncClient] = {}
        for username, display_name in NAMES.items():
            await rathaus.services.accounts.create_user(username, PASSWORD, display_name)
            http = httpx.AsyncClient(base_url=rathaus.http)
            signed = await http.post(
                "/api/session", json={"username": username, "password": PASSWORD}
            )
            http.headers["x-csrf-token"] = signed.json()["csrf_token"]
            browsers[username] = http
        try:
            yield rathaus, browsers
        finally:
            for http in browsers.values():
                await http.aclose()


async def roles(http: httpx.AsyncClient, slug: str) -> list[dict[str, Any]]:
    response = await http.get(f"/api/rooms/{slug}/settings")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["roles"]
    return found


async def my_rooms(http: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await http.get("/api/rooms")
    assert response.status_code == 200, response.text
    return {room["slug"]: room for room in response.json()["rooms"]}


async def test_owners_add_and_remove_members_who_then_list_the_room(
    world: tuple[RunningServer, dict[str, httpx.AsyncClient]],
) -> None:
    rathaus, http = world
    created = await http["olga"].post("/api/rooms", json={"name": "Ausschuss"})
    slug = created.json()["slug"]
    before = int(time.time())
    added = await http["olga"].put(f"/api/rooms/{slug}/roles/mia", json={"role": "member"})
    assert added.status_code == 204, added.text

    people = await roles(http["olga"], slug)
    assert [(p["username"], p["role"]) for p in people] == [("olga", "owner"), ("mia", "member")]
    owner_since, member_since = (p["since"] for p in people)
    assert owner_since <= member_since and member_since >= before - 1
    assert member_since == pytest.approx(time.time(), abs=60)
    # The member's rooms list it, with their role; a member does not change the room.
    listed = (await my_rooms(http["mia"]))[slug]
    assert (listed["role"], listed["kind"]) == ("member", "room")
    assert_refused(await http["mia"].get(f"/api/rooms/{slug}/settings"), 403, ErrorCode.FORBIDDEN)
    assert_refused(
        await http["mia"].put(f"/api/rooms/{slug}/roles/tom", json={"role": "member"}),
        403,
        ErrorCode.FORBIDDEN,
    )

    # Made moderator, still a member since the first: the moment chat shows them from.
    await http["olga"].put(f"/api/rooms/{slug}/roles/mia", json={"role": "moderator"})
    (mia,) = [p for p in await roles(http["olga"], slug) if p["username"] == "mia"]
    assert (mia["role"], mia["since"]) == ("moderator", member_since)
    assert (await my_rooms(http["mia"]))[slug]["role"] == "moderator"

    removed = await http["olga"].delete(f"/api/rooms/{slug}/roles/mia")
    assert removed.status_code == 204
    assert [p["username"] for p in await roles(http["olga"], slug)] == ["olga"]
    assert slug not in await my_rooms(http["mia"])

    # Each change is in the audit log, as for the other roles.
    entries = await rathaus.services.audit.recent(room=slug)
    granted = [
        (e.action, e.target.role.value if e.target and e.target.role else None)
        for e in entries
        if e.action.startswith("room_role")
    ]
    assert sorted(granted) == sorted(
        [
            ("room_role_granted", "member"),
            ("room_role_revoked", "member"),
            ("room_role_granted", "moderator"),
            ("room_role_revoked", "moderator"),
        ]
    )


async def test_a_direct_conversation_is_one_room_of_exactly_two(
    world: tuple[RunningServer, dict[str, httpx.AsyncClient]],
) -> None:
    rathaus, http = world
    started = await http["olga"].post("/api/direct/mia")
    assert started.status_code == 200, started.text
    room = started.json()
    slug = room["slug"]
    assert slug.startswith("dm-") and len(slug) > 30  # nobody guesses it
    assert room["name"] == "Olga Owner, Mia Member"
    # The same room again, and from the other side.
    assert (await http["olga"].post("/api/direct/mia")).json() == room
    assert (await http["mia"].post("/api/direct/olga")).json() == room

    stored = await rathaus.services.rooms.get(slug)
    assert (stored.kind, stored.guests_allowed, stored.lobby, stored.owner_id) == (
        "direct",
        False,
        False,
        None,
    )
    for who in ("olga", "mia"):
        listed = (await my_rooms(http[who]))[slug]
        assert (listed["role"], listed["kind"]) == ("member", "direct")
    assert slug not in await my_rooms(http["tom"])

    # Nobody joins, leaves or moderates it, whoever asks about whomever (known or not).
    for who in ("olga", "tom"):
        for target in ("tom", "mia", "nobody"):
            assert_refused(
                await http[who].put(f"/api/rooms/{slug}/roles/{target}", json={"role": "member"}),
                400,
                ErrorCode.DIRECT_ROOM,
            )
    assert_refused(
        await http["mia"].delete(f"/api/rooms/{slug}/roles/olga"), 400, ErrorCode.DIRECT_ROOM
    )
    # Not with oneself.
    assert_refused(await http["olga"].post("/api/direct/olga"), 400, ErrorCode.DIRECT_ROOM)
    # An unknown name: the answer a room's owner gets giving it a role.
    unknown = await http["olga"].post("/api/direct/nobody")
    as_role = await http["olga"].put(
        f"/api/rooms/{(await http['olga'].post('/api/rooms', json={'name': 'R'})).json()['slug']}"
        "/roles/nobody",
        json={"role": "member"},
    )
    assert unknown.status_code == as_role.status_code == 404
    assert unknown.json() == as_role.json()
    # Another pair, another room.
    other = (await http["tom"].post("/api/direct/mia")).json()
    assert other["slug"] != slug and other["name"] == "Tom Third, Mia Member"


async def test_only_the_two_members_enter_a_direct_conversations_meeting(
    world: tuple[RunningServer, dict[str, httpx.AsyncClient]],
) -> None:
    """Its link is hard to guess, but that is no lock: a third account (an administrator too)
    and a guest are refused with `members_only`; the two get in."""
    rathaus, http = world
    slug = (await http["olga"].post("/api/direct/mia")).json()["slug"]
    admin = await rathaus.services.accounts.create_user("ada", PASSWORD, "Ada Admin", admin=True)
    async with httpx.AsyncClient(base_url=rathaus.http) as ada:
        await ada.post("/api/session", json={"username": admin.username, "password": PASSWORD})
        outsiders = [
            Bot(rathaus.ws, slug, "Tom", cookies=dict(http["tom"].cookies)),
            Bot(rathaus.ws, slug, "Ada", cookies=dict(ada.cookies)),
            Bot(rathaus.ws, slug, "Gast"),
        ]
    members = [
        Bot(rathaus.ws, slug, who, cookies=dict(http[who].cookies)) for who in ("olga", "mia")
    ]
    try:
        for bot in outsiders:
            await bot.knock()
            assert (await bot.expect("error"))["code"] == ErrorCode.MEMBERS_ONLY
            assert not [m for m in bot.messages if m["type"] in ("welcome", "lobby")]
        for bot in members:
            assert (await bot.join())["self"]["name"] == bot.name
    finally:
        for bot in [*outsiders, *members]:
            await bot.close()
