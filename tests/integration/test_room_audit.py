"""Changes of a room's access settings, roles and guest links in the audit log, over HTTP: one
entry per setting that really changes, the acting account as actor (account, role and display
name apart, so that no name can pass for another account), nothing for a refused or empty
change, and never a password or a guest link's token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.rooms import PASSWORD, unique
from tests.support.server import RunningServer


def stored_files(data_dir: Path) -> dict[Path, bytes]:
    """All Rathaus keeps: the database with the audit table, Janus' configuration and log."""
    return {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}


Party = dict[str, Any]


@dataclass
class Account:
    user: Any
    http: httpx.AsyncClient

    def label(self, capacity: str) -> Party:
        """The account as an audit entry's party, acting (or acted on) as ``capacity``."""
        return {"user_id": self.user.id, "role": capacity, "name": self.user.display_name}


@dataclass
class World:
    server: RunningServer
    owner: Account
    member: Account
    admin: Account
    anonymous: httpx.AsyncClient
    slug: str

    async def rows(self) -> list[dict[str, Any]]:
        """The room's entries, oldest first, as administrators read them."""
        response = await self.admin.http.get("/api/audit", params={"room": self.slug})
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()
        assert all(row["room"] == self.slug for row in rows)
        return rows[::-1]

    async def entries(self) -> list[tuple[Party, str, Party | None]]:
        """(actor, action, target) of the room's entries, oldest first; none has a detail."""
        rows = await self.rows()
        assert [row["detail"] for row in rows] == [None] * len(rows)
        return [(row["actor"], row["action"], row["target"]) for row in rows]

    async def patch(self, account: Account, **change: Any) -> httpx.Response:
        return await account.http.patch(f"/api/rooms/{self.slug}", json=change)


async def sign_in(server: RunningServer, admin: bool = False, name: str | None = None) -> Account:
    """A new signed-in account with an HTTP client that carries the CSRF header."""
    accounts = server.services.accounts
    display_name = name or unique("Name ")
    user = await accounts.create_user(unique("u"), PASSWORD, display_name, admin=admin)
    http = httpx.AsyncClient(base_url=server.http)
    signed = await http.post("/api/session", json={"username": user.username, "password": PASSWORD})
    http.headers["x-csrf-token"] = signed.json()["csrf_token"]
    return Account(user, http)


def refusal(response: httpx.Response) -> tuple[int, str, str | None]:
    """A refused request's status, error code and, for a body that does not validate, the type
    of each validation error."""
    body = response.json()
    problems = body.get("detail")
    types = ",".join(problem["type"] for problem in problems) if problems else None
    return response.status_code, body["code"], types


@pytest.fixture
async def world(server: RunningServer) -> AsyncIterator[World]:
    """A room made over HTTP by its owner, a member without a role in it, and an administrator."""
    owner, member, admin = await sign_in(server), await sign_in(server), await sign_in(server, True)
    anonymous = httpx.AsyncClient(base_url=server.http)
    try:
        created = await owner.http.post("/api/rooms", json={"name": unique("Audit ")})
        assert created.status_code == 201, created.text
        yield World(server, owner, member, admin, anonymous, created.json()["slug"])
    finally:
        for http in (owner.http, member.http, admin.http, anonymous):
            await http.aclose()


async def test_each_changed_setting_is_an_entry_of_its_own(world: World) -> None:
    by_owner = world.owner.label("owner")
    assert await world.entries() == [(by_owner, "room_created", None)]

    everything = {"lobby": True, "guests_allowed": False, "password": unique("Pw "), "e2ee": False}
    assert (await world.patch(world.owner, **everything)).status_code == 200
    expected = [
        (by_owner, "room_created", None),
        (by_owner, "room_guests_off", None),
        (by_owner, "room_lobby_on", None),
        (by_owner, "room_e2ee_off", None),
        (by_owner, "room_password_set", None),
    ]
    assert await world.entries() == expected

    # The same values again, the same password included, and an empty change: nothing new.
    assert (await world.patch(world.owner, **everything)).status_code == 200
    assert (await world.patch(world.owner)).status_code == 200
    assert await world.entries() == expected

    # Only what changes: the lobby stays on, E2EE goes on again, the password goes.
    changed = await world.patch(world.owner, lobby=True, e2ee=True, password="")
    assert changed.status_code == 200 and changed.json()["has_password"] is False
    expected += [(by_owner, "room_e2ee_on", None), (by_owner, "room_password_cleared", None)]
    assert (await world.patch(world.owner, password="")).status_code == 200  # none to clear
    assert await world.entries() == expected

    # A new password where there was one is set as well; an administrator acts as such.
    assert (await world.patch(world.owner, password=unique("Pw "))).status_code == 200
    assert (await world.patch(world.owner, password=unique("Pw "))).status_code == 200
    assert (await world.patch(world.admin, guests_allowed=True, lobby=False)).status_code == 200
    by_admin = world.admin.label("administrator")
    expected += [
        (by_owner, "room_password_set", None),
        (by_owner, "room_password_set", None),
        (by_admin, "room_guests_on", None),
        (by_admin, "room_lobby_off", None),
    ]
    assert await world.entries() == expected


async def test_roles_and_guest_links_are_audited_without_tokens(world: World) -> None:
    by_owner = world.owner.label("owner")
    member = world.member.user
    role_url = f"/api/rooms/{world.slug}/roles/{member.username}"
    as_co_owner = {"role": "co_owner"}
    assert (await world.owner.http.put(role_url, json=as_co_owner)).status_code == 204
    assert (await world.owner.http.put(role_url, json=as_co_owner)).status_code == 204  # again
    # Now a co-owner, who changes the room as one.
    assert (await world.patch(world.member, lobby=True)).status_code == 200
    moderator = {"role": "moderator"}
    assert (await world.owner.http.put(role_url, json=moderator)).status_code == 204
    assert (await world.owner.http.delete(role_url)).status_code == 204
    assert (await world.owner.http.delete(role_url)).status_code == 204  # had none left

    assert await world.entries() == [
        (by_owner, "room_created", None),
        (by_owner, "room_role_granted", world.member.label("co_owner")),
        (world.member.label("co_owner"), "room_lobby_on", None),
        (by_owner, "room_role_revoked", world.member.label("co_owner")),
        (by_owner, "room_role_granted", world.member.label("moderator")),
        (by_owner, "room_role_revoked", world.member.label("moderator")),
    ]

    # A guest link: the entry has its expiry as the server's detail, no target, and no token.
    link = await world.owner.http.post(f"/api/rooms/{world.slug}/guest-links", json={})
    assert link.status_code == 201
    token = httpx.URL(link.json()["url"]).params["invite"]
    rows = await world.rows()
    last = rows[-1]
    assert (last["actor"], last["action"], last["target"]) == (
        by_owner,
        "room_guest_link_created",
        None,
    )
    assert last["detail"].startswith("until 20") and last["detail"].endswith(" UTC")
    assert all(token not in str(row) for row in rows)
    assert [row["detail"] for row in rows[:-1]] == [None] * (len(rows) - 1)


async def test_a_display_name_cannot_pass_for_another_account(world: World) -> None:
    """A member who calls themselves after the administrator, with the old label's suffix and
    characters that reorder or hide text, changes the room as co-owner: the entry has the
    member's own account and role, and the name only as a name, cleaned."""
    admin = world.admin.user
    forged = f"{admin.display_name} (administrator, user {admin.id})"
    mimic = await sign_in(world.server, name=f"{forged}\u202e\x07")
    try:
        role_url = f"/api/rooms/{world.slug}/roles/{mimic.user.username}"
        given = await world.owner.http.put(role_url, json={"role": "co_owner"})
        assert given.status_code == 204
        assert (await world.patch(mimic, lobby=True)).status_code == 200
    finally:
        await mimic.http.aclose()
    as_co_owner = {"user_id": mimic.user.id, "role": "co_owner", "name": forged}
    assert mimic.user.id != admin.id and mimic.user.display_name != forged
    assert (await world.entries())[1:] == [
        (world.owner.label("owner"), "room_role_granted", as_co_owner),
        (as_co_owner, "room_lobby_on", None),
    ]


async def test_refused_changes_add_nothing(world: World) -> None:
    slug = world.slug
    member = world.member
    refused = {
        "a member without a role": await world.patch(member, e2ee=False, password=unique("P")),
        "nobody signed in": await world.anonymous.patch(f"/api/rooms/{slug}", json={"e2ee": False}),
        "a string for a boolean": await world.patch(world.owner, e2ee="false", lobby=True),
        "a password too long": await world.patch(world.owner, lobby=True, password="x" * 257),
        "a role for the owner": await world.owner.http.put(
            f"/api/rooms/{slug}/roles/{world.owner.user.username}", json={"role": "moderator"}
        ),
        "an unknown role": await world.owner.http.put(
            f"/api/rooms/{slug}/roles/{member.user.username}", json={"role": "owner"}
        ),
        "a role given by a member": await member.http.put(
            f"/api/rooms/{slug}/roles/{member.user.username}", json={"role": "co_owner"}
        ),
        "a guest link made by a member": await member.http.post(
            f"/api/rooms/{slug}/guest-links", json={}
        ),
    }
    assert {reason: refusal(response) for reason, response in refused.items()} == {
        "a member without a role": (403, "forbidden", None),
        "nobody signed in": (401, "not_signed_in", None),
        "a string for a boolean": (422, "bad_message", "bool_type"),
        "a password too long": (422, "bad_message", "string_too_long"),
        "a role for the owner": (400, "bad_message", None),
        "an unknown role": (422, "bad_message", "literal_error"),
        "a role given by a member": (403, "forbidden", None),
        "a guest link made by a member": (403, "forbidden", None),
    }
    assert await world.entries() == [(world.owner.label("owner"), "room_created", None)]
    room = await world.server.services.rooms.get(slug)
    assert (room.lobby, room.e2ee, room.has_password) == (False, True, False)


async def test_room_passwords_reach_neither_the_audit_log_nor_the_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    uvicorn_log = logging.getLogger("uvicorn.error")  # does not propagate to the root logger
    uvicorn_log.addHandler(caplog.handler)
    passwords = [unique("Erstes Passwort "), unique("Zweites Passwort "), unique("x" * 240)]
    try:
        assert (await world.patch(world.owner, password=passwords[0])).status_code == 200
        assert (await world.patch(world.owner, password=passwords[1])).status_code == 200
        not_theirs = await world.patch(world.member, password=passwords[2])
        assert refusal(not_theirs) == (403, "forbidden", None)
        too_long = await world.patch(world.owner, password=passwords[2] * 2)
        assert refusal(too_long) == (422, "bad_message", "string_too_long")
        assert (await world.patch(world.owner, password="")).status_code == 200
    finally:
        uvicorn_log.removeHandler(caplog.handler)

    entries = await world.entries()
    assert [action for _, action, _ in entries] == [
        "room_created",
        "room_password_set",
        "room_password_set",
        "room_password_cleared",
    ]
    everything = repr(await world.server.services.audit.recent(limit=1000))
    stored = stored_files(Path(world.server.settings.server.data_dir))
    assert any(p.name.startswith("rathaus.db") for p in stored)
    # At DEBUG, aiosqlite logs every statement with its parameters.
    assert any(r.name == "aiosqlite" for r in caplog.records), "the log capture saw no SQL"
    for password in passwords:
        assert password not in everything
        for path, content in stored.items():
            assert password.encode() not in content, f"a room password in {path}"
        for record in caplog.records:
            text = record.getMessage() + repr(record.args) + str(record.exc_info or "")
            assert password not in text, f"a room password in the log: {record.name}"
