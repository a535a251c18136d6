"""Room settings and roles over HTTP, guest links that expire, and the join rate limit."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from rathaus.errors import ErrorCode
from tests.support.bot import Bot, wait_until
from tests.support.http import assert_refused
from tests.support.rooms import browser_for, guest_link, unique
from tests.support.server import RunningServer, running_server, server_settings, shared_janus


async def test_only_owners_change_a_room_and_name_moderators(server: RunningServer) -> None:
    _, as_owner = await browser_for(server)
    member, as_member = await browser_for(server)
    _, as_admin = await browser_for(server, admin=True)
    try:
        slug = (await as_owner.post("/api/rooms", json={"name": unique("Rat ")})).json()["slug"]
        change = {"lobby": True, "password": "Geheim 1234", "guests_allowed": False}
        refused = await as_member.patch(f"/api/rooms/{slug}", json=change)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        changed = await as_owner.patch(f"/api/rooms/{slug}", json=change)
        assert changed.json() == {
            "slug": slug,
            "name": changed.json()["name"],
            "guests_allowed": False,
            "lobby": True,
            "has_password": True,
            "e2ee": True,
            "retention_days": 0,
        }
        assert_refused(
            await as_member.put(
                f"/api/rooms/{slug}/roles/{member.username}", json={"role": "co_owner"}
            ),
            403,
            ErrorCode.FORBIDDEN,
        )
        assert (
            await as_owner.put(
                f"/api/rooms/{slug}/roles/{member.username}", json={"role": "co_owner"}
            )
        ).status_code == 204
        # Now a co-owner: may change the room, and moderates its meeting.
        assert (await as_member.patch(f"/api/rooms/{slug}", json={"password": ""})).json()[
            "has_password"
        ] is False
        bot = Bot(
            server.ws,
            slug,
            "Mia",
            cookies={"rathaus_session": as_member.cookies["rathaus_session"]},
        )
        assert (await bot.join())["self"]["role"] == "moderator"
        await bot.close()
        assert (
            await as_admin.patch(f"/api/rooms/{slug}", json={"lobby": False})
        ).status_code == 200
        assert (
            await as_owner.delete(f"/api/rooms/{slug}/roles/{member.username}")
        ).status_code == 204
        assert_refused(
            await as_member.patch(f"/api/rooms/{slug}", json={"lobby": True}),
            403,
            ErrorCode.FORBIDDEN,
        )

        assert_refused(await as_member.get("/api/audit"), 403, ErrorCode.FORBIDDEN)
        assert (await as_admin.get("/api/audit")).status_code == 200
    finally:
        for http in (as_owner, as_member, as_admin):
            await http.aclose()


async def test_owners_switch_end_to_end_encryption_off_for_their_room(
    server: RunningServer,
) -> None:
    owner, as_owner = await browser_for(server)
    co_owner, as_co_owner = await browser_for(server)
    _, as_member = await browser_for(server)
    anonymous = httpx.AsyncClient(base_url=server.http)
    rooms = server.services.rooms
    try:
        slug = (await as_owner.post("/api/rooms", json={"name": unique("Rat ")})).json()["slug"]
        assert (await rooms.get(slug)).e2ee is True  # on unless switched off
        await rooms.set_role(slug, owner, co_owner, "co_owner")
        off = {"e2ee": False}
        refused = await as_member.patch(f"/api/rooms/{slug}", json=off)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert_refused(
            await anonymous.patch(f"/api/rooms/{slug}", json=off), 401, ErrorCode.NOT_SIGNED_IN
        )
        assert (await rooms.get(slug)).e2ee is True

        changed = await as_owner.patch(f"/api/rooms/{slug}", json=off)
        assert changed.status_code == 200 and changed.json()["e2ee"] is False
        assert (await rooms.get(slug)).e2ee is False
        # Other changes leave it as it is; a co-owner may switch it on again.
        assert (await as_owner.patch(f"/api/rooms/{slug}", json={"lobby": True})).json()[
            "e2ee"
        ] is False
        again = await as_co_owner.patch(f"/api/rooms/{slug}", json={"e2ee": True})
        assert again.status_code == 200 and again.json()["e2ee"] is True

        # Only a JSON boolean: no "false", 0 or "off" that might switch it off by accident.
        bad_values: list[object] = ["false", "off", 0, 1, [], {}]
        for bad in bad_values:
            response = await as_owner.patch(f"/api/rooms/{slug}", json={"e2ee": bad})
            assert_refused(response, 422, ErrorCode.BAD_MESSAGE)
            (error,) = response.json()["detail"]
            assert error["loc"] == ["body", "e2ee"] and error["type"] == "bool_type", error
            assert error["msg"] == "Input should be a valid boolean"
        assert (await rooms.get(slug)).e2ee is True
    finally:
        for http in (as_owner, as_co_owner, as_member, anonymous):
            await http.aclose()


async def test_guest_links_let_guests_into_members_only_rooms_until_they_expire(
    server: RunningServer,
) -> None:
    _, as_owner = await browser_for(server)
    _, as_member = await browser_for(server)
    try:
        slug = (await as_owner.post("/api/rooms", json={"name": unique("Rat ")})).json()["slug"]
        await as_owner.patch(f"/api/rooms/{slug}", json={"guests_allowed": False})
        refused = await as_member.post(f"/api/rooms/{slug}/guest-links", json={})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden", refused.text
        link = (
            await as_owner.post(f"/api/rooms/{slug}/guest-links", json={"valid_hours": 1})
        ).json()
        assert link["expires_at"] == pytest.approx(time.time() + 3600, abs=5)
        token = httpx.URL(link["url"]).params["invite"]

        guest = Bot(server.ws, slug, "Gast")
        await guest.knock()
        assert (await guest.expect("error"))["code"] == "guests_not_allowed"
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        await guest.send({"type": "join", "name": "Gast", "invite": tampered})
        assert (await guest.expect("error"))["code"] == "guests_not_allowed"
        await guest.send({"type": "join", "name": "Gast", "invite": token})
        assert (await guest.expect("welcome"))["self"]["role"] == "guest"
        await guest.close()

        other = (await as_owner.post("/api/rooms", json={"name": unique("Rat ")})).json()["slug"]
        other_room = await guest_link(server, other)
        expired = await guest_link(server, slug, now=time.time() - 7200)
        late = Bot(server.ws, slug, "Spät")
        await late.connect()
        await late.send({"type": "join", "name": "Spät", "invite": other_room})
        assert (await late.expect("error"))["code"] == "guests_not_allowed"
        await late.send({"type": "join", "name": "Spät", "invite": expired})
        error = await late.expect("error")
        assert error["code"] == "guest_link_expired" and "expired" in error["message"]
        await late.close()
    finally:
        await as_owner.aclose()
        await as_member.aclose()


@pytest.fixture
async def strict_server(server: RunningServer, tmp_path: Path) -> AsyncIterator[RunningServer]:
    settings = server_settings(
        tmp_path, janus=shared_janus(server), meeting={"join_attempts_per_minute": 5}
    )
    async with running_server(settings) as running:
        yield running


async def test_join_attempts_are_rate_limited_per_address(strict_server: RunningServer) -> None:
    bots, outcomes = [], []
    try:
        for n in range(7):
            bot = Bot(strict_server.ws, "rate", f"P{n}")
            bots.append(bot)
            await bot.knock()
            await wait_until(
                lambda bot=bot: any(m["type"] in ("welcome", "error") for m in bot.messages),
                what="an answer",
            )
            answer = next(m for m in bot.messages if m["type"] in ("welcome", "error"))
            outcomes.append(answer.get("code", answer["type"]))
        assert outcomes == ["welcome"] * 5 + ["rate_limited"] * 2
    finally:
        for bot in bots:
            await bot.close()
