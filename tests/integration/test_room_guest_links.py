"""Guest links over HTTP and at the door: made, listed and revoked by those who may change the
room; a revoked link, another room's link, an expired one and one of the old format open
nothing; the token is never stored and never in the audit log."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rathaus.errors import ErrorCode
from rathaus.secrets_store import Signer, load_or_create_key
from tests.support.bot import Bot
from tests.support.http import assert_refused
from tests.support.rooms import browser_for, guest_link, unique
from tests.support.server import RunningServer


@dataclass
class World:
    server: RunningServer
    owner: Any
    admin: Any
    as_owner: httpx.AsyncClient
    as_member: httpx.AsyncClient
    as_admin: httpx.AsyncClient
    anonymous: httpx.AsyncClient
    slug: str  # a members-only room of the owner's

    def links_url(self, slug: str | None = None) -> str:
        return f"/api/rooms/{slug or self.slug}/guest-links"

    async def make(self, http: httpx.AsyncClient, hours: float = 1) -> dict[str, Any]:
        made = await http.post(self.links_url(), json={"valid_hours": hours})
        assert made.status_code == 201, made.text
        link: dict[str, Any] = made.json()
        return link

    async def listed(self, http: httpx.AsyncClient | None = None) -> list[dict[str, Any]]:
        response = await (http or self.as_owner).get(self.links_url())
        assert response.status_code == 200, response.text
        links: list[dict[str, Any]] = response.json()["links"]
        return links

    def link_id(self, token: str) -> str:
        invite = self.server.services.invites.read(token)
        assert invite is not None
        return invite.link_id


@pytest.fixture
async def world(server: RunningServer) -> AsyncIterator[World]:
    owner, as_owner = await browser_for(server)
    _, as_member = await browser_for(server)
    admin, as_admin = await browser_for(server, admin=True)
    anonymous = httpx.AsyncClient(base_url=server.http)
    try:
        created = await as_owner.post("/api/rooms", json={"name": unique("Gast ")})
        slug = created.json()["slug"]
        await as_owner.patch(f"/api/rooms/{slug}", json={"guests_allowed": False})
        yield World(server, owner, admin, as_owner, as_member, as_admin, anonymous, slug)
    finally:
        for http in (as_owner, as_member, as_admin, anonymous):
            await http.aclose()


def stored_files(data_dir: Path) -> list[bytes]:
    """All Rathaus keeps: the database, Janus' configuration and log."""
    return [p.read_bytes() for p in data_dir.rglob("*") if p.is_file()]


def token_of(link: dict[str, Any]) -> str:
    return httpx.URL(link["url"]).params["invite"]


async def test_links_are_made_listed_and_revoked_by_the_rooms_managers(world: World) -> None:
    first = await world.make(world.as_owner, hours=1)
    assert set(first) == {"id", "url", "expires_at", "created_at"}
    assert len(first["id"]) == 16 and first["url"].startswith(f"/r/{world.slug}?invite=")
    assert first["created_at"] == pytest.approx(time.time(), abs=5)
    assert first["expires_at"] == first["created_at"] + 3600
    second = await world.make(world.as_admin, hours=2)
    expired = await guest_link(world.server, world.slug, now=time.time() - 7200)

    # Newest first, each with the very link handed out (made again from its record).
    links = await world.listed()
    assert links == [
        {**second, "created_by": world.admin.display_name},
        {**first, "created_by": world.owner.display_name},
    ]
    assert await world.listed(world.as_admin) == links
    # The expired one is not listed, and its record is gone: there is nothing to revoke.
    revoke_expired = await world.as_owner.delete(f"{world.links_url()}/{world.link_id(expired)}")
    assert_refused(revoke_expired, 404, ErrorCode.NOT_FOUND)

    assert_refused(await world.anonymous.get(world.links_url()), 401, ErrorCode.NOT_SIGNED_IN)
    assert_refused(await world.as_member.get(world.links_url()), 403, ErrorCode.FORBIDDEN)
    assert_refused(await world.as_member.post(world.links_url(), json={}), 403, ErrorCode.FORBIDDEN)
    # The right is checked before the id is looked up: the same refusal for any id.
    for link_id in (first["id"], "AAAAAAAAAAAAAAAA", "not an id"):
        url = f"{world.links_url()}/{link_id}"
        assert_refused(await world.as_member.delete(url), 403, ErrorCode.FORBIDDEN)
        assert_refused(await world.anonymous.delete(url), 401, ErrorCode.NOT_SIGNED_IN)
    # A manager learns that an id is unknown, and of a link of another room, that it is not
    # this room's.
    elsewhere = (await world.as_owner.post("/api/rooms", json={"name": unique("B ")})).json()
    for link_id in ("AAAAAAAAAAAAAAAA", "x", first["id"] + "A"):
        missing = await world.as_owner.delete(f"{world.links_url()}/{link_id}")
        assert_refused(missing, 404, ErrorCode.NOT_FOUND)
        assert "no such guest link" in missing.json()["message"]
    other_room = await world.as_owner.delete(f"{world.links_url(elsewhere['slug'])}/{first['id']}")
    assert_refused(other_room, 404, ErrorCode.NOT_FOUND)

    revoked = await world.as_owner.delete(f"{world.links_url()}/{first['id']}")
    assert revoked.status_code == 204 and revoked.content == b""
    assert [link["id"] for link in await world.listed()] == [second["id"]]
    again = await world.as_owner.delete(f"{world.links_url()}/{first['id']}")
    assert_refused(again, 404, ErrorCode.NOT_FOUND)

    # The audit log has each link's expiry, never its token.
    entries = await world.as_admin.get("/api/audit", params={"room": world.slug})
    rows = entries.json()[::-1]
    actions = [(row["actor"]["role"], row["action"]) for row in rows]
    assert actions[-4:] == [
        ("owner", "room_guest_link_created"),
        ("administrator", "room_guest_link_created"),
        ("administrator", "room_guest_link_created"),  # the expired one, made for the test
        ("owner", "room_guest_link_revoked"),
    ]
    assert rows[-1]["detail"] == rows[-4]["detail"]  # "until <the revoked link's expiry>"
    assert rows[-1]["detail"].startswith("until 20") and rows[-1]["detail"].endswith(" UTC")
    tokens = [token_of(first), token_of(second), expired]
    assert not [token for token in tokens if token in entries.text]

    # Nor is a token anywhere in what Rathaus keeps.
    stored = stored_files(Path(world.server.settings.server.data_dir))
    assert not [token for token in tokens for content in stored if token.encode() in content]


async def test_the_door_refuses_revoked_expired_and_foreign_links(world: World) -> None:
    server, slug = world.server, world.slug
    link, other = await world.make(world.as_owner), await world.make(world.as_owner)
    token = token_of(link)
    elsewhere = (await world.as_owner.post("/api/rooms", json={"name": unique("B ")})).json()
    foreign = await guest_link(server, elsewhere["slug"])
    expired = await guest_link(server, slug, now=time.time() - 7200)
    # What links were before revision 0006: room and expiry, no record.
    signer = Signer(load_or_create_key(server.settings.server.data_dir), "guest-link")
    old_format = signer.sign(f"{slug}\n{int(time.time()) + 3600}")

    guest = Bot(server.ws, slug, "Gast")
    try:
        await guest.connect()
        await guest.send({"type": "join", "name": "Gast", "invite": token})
        assert (await guest.expect("welcome"))["self"]["role"] == "guest"
    finally:
        await guest.close()

    revoked = await world.as_owner.delete(f"{world.links_url()}/{link['id']}")
    assert revoked.status_code == 204
    late = Bot(server.ws, slug, "Spät")
    try:
        await late.connect()
        errors = {}
        for why, invite in {
            "revoked": token,
            "another room's": foreign,
            "of the old format": old_format,
            "expired": expired,
        }.items():
            await late.send({"type": "join", "name": "Spät", "invite": invite})
            errors[why] = await late.expect("error")
        assert {why: error["code"] for why, error in errors.items()} == {
            "revoked": "guest_link_revoked",
            "another room's": "guests_not_allowed",
            "of the old format": "guests_not_allowed",
            "expired": "guest_link_expired",
        }
        assert "revoked" in errors["revoked"]["message"]
        # Revoking one link leaves the others as they are.
        await late.send({"type": "join", "name": "Spät", "invite": token_of(other)})
        assert (await late.expect("welcome"))["self"]["role"] == "guest"
    finally:
        await late.close()
