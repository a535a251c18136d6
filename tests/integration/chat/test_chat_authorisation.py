"""Who may do what in a room's chat, over HTTP and the chat socket: every actor (owner,
moderator, member, a colleague who is no member, an administrator who is none, a visitor not
signed in) against every action (list the members, read, write, claim key packages, edit
someone else's message, delete someone else's, look up a device, register someone's device)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from tests.support import chat
from tests.support.chat import ChatSocket
from tests.support.chat_world import World, create_group, new_room, open_room, send_request

ACTORS = ("owner", "moderator", "member", "outsider", "admin", "anonymous")
MEMBERS = {"owner", "moderator", "member"}


async def actor(world: World, who: str, slug: str) -> tuple[httpx.AsyncClient, str | None]:
    """The actor's signed-in HTTP client and device (anonymous: neither signs in nor has one)."""
    rathaus = world.rathaus
    if who == "anonymous":
        return httpx.AsyncClient(base_url=rathaus.http), None
    if who in ("owner", "member", "outsider"):
        person = world.people[{"owner": "olga", "member": "mia", "outsider": "tom"}[who]]
        return person.http, person.device
    name = f"{who[:3]}{secrets.token_hex(3)}"
    await rathaus.services.accounts.create_user(
        name, chat.PASSWORD, who.title(), admin=who == "admin"
    )
    http = await chat.sign_in(rathaus.http, name)
    if who == "moderator":
        olga = await rathaus.services.accounts.user_named("olga")
        user = await rathaus.services.accounts.user_named(name)
        await rathaus.services.rooms.set_role(slug, olga, user, "moderator")
    return http, await chat.register_device(http)


@pytest.fixture
async def room(world: World) -> tuple[str, bytes, int, int]:
    """A room with a group, a message of Olga's and one of Mia's."""
    slug = await new_room(world)
    olga, mia = await world.socket("olga"), await world.socket("mia")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    await open_room(mia, slug)
    olgas = (await olga.request(send_request(slug, group_id, 0, b"von Olga")))["seq"]
    mias = (await mia.request(send_request(slug, group_id, 0, b"von Mia")))["seq"]
    await olga.close()
    await mia.close()
    return slug, group_id, olgas, mias


@pytest.mark.parametrize("who", ACTORS)
async def test_every_actor_against_every_chat_action(
    world: World, room: tuple[str, bytes, int, int], who: str
) -> None:
    slug = room[0]
    http, device = await actor(world, who, slug)
    try:
        await actions(world, room, who, http, device)
    finally:
        if who not in ("owner", "member", "outsider"):  # made for this test
            await http.aclose()


async def actions(
    world: World,
    room: tuple[str, bytes, int, int],
    who: str,
    http: httpx.AsyncClient,
    device: str | None,
) -> None:
    slug, group_id, olgas, mias = room
    member = who in MEMBERS
    for what in ("members", "meeting"):  # who belongs to the room; how many are in its meeting
        listed = await http.get(f"/api/chat/rooms/{slug}/{what}")
        assert listed.status_code == (200 if member else 401 if who == "anonymous" else 403)
    if member:
        assert listed.json() == {"participants": 0}
    mine = await http.get("/api/chat/conversations")
    assert mine.status_code == (401 if who == "anonymous" else 200)
    if who != "anonymous":  # each sees their own list: the room only if they belong to it
        assert (slug in {c["slug"] for c in mine.json()}) == member
    package = {"device": device or "nobody", "key_packages": [chat.b64(chat.key_package())]}
    published = await http.post("/api/chat/key-packages", json=package)
    assert published.status_code == (401 if who == "anonymous" else 200)
    foreign = {"device": world.people["olga"].device, "key_packages": package["key_packages"]}
    if who != "owner":
        stolen = await http.post("/api/chat/key-packages", json=foreign)
        assert stolen.status_code == (401 if who == "anonymous" else 404)
    lookup = await http.get(f"/api/chat/devices/{world.people['olga'].device}")
    assert lookup.status_code == (401 if who == "anonymous" else 200)
    taken = await http.post(
        "/api/chat/devices",
        json={
            "id": world.people["olga"].device,
            "ed25519": chat.raw_key(),
            "x25519": chat.raw_key(),
        },
    )
    assert taken.status_code == (401 if who == "anonymous" else 409)

    socket = await ChatSocket.open(world.rathaus.ws, http, None)
    if who == "anonymous":
        assert (await socket.next("error"))["code"] == "not_signed_in"
        await socket.close()
        return
    await socket.send({"type": "hello", "device": device})
    await socket.next("ready")
    await socket.send({"type": "open", "room": slug, "after": 0})
    if not member:
        assert (await socket.next("error"))["code"] == "forbidden"
        for request in (
            send_request(slug, group_id, 0, b"x"),
            {"type": "claim", "room": slug},
            {"type": "delete", "room": slug, "seq": olgas},
        ):
            answer = await socket.request(request)
            assert answer["code"] == "invalid_state"  # a room it could not open
        await socket.close()
        return
    assert (await socket.next("group"))["epoch"] == 0
    sent = await socket.request(send_request(slug, group_id, 0, b"hallo"))
    assert sent["type"] == "ack"
    seen = [e["seq"] for e in await socket.events(slug, 1 if who == "moderator" else 4)]
    # Members read the room's past since they joined: the moderator joined just now.
    assert seen == ([sent["seq"]] if who == "moderator" else [1, olgas, mias, sent["seq"]])
    claim = await socket.request({"type": "claim", "room": slug})
    assert claim["type"] == "claimed"
    others = olgas if who != "owner" else mias
    if who == "moderator":  # one written since the moderator came in (older ones are not theirs)
        olga = await world.socket("olga")
        await open_room(olga, slug)
        others = (await olga.request(send_request(slug, group_id, 0, b"neu")))["seq"]
        await olga.close()
    edit = await socket.request(send_request(slug, group_id, 0, b"mine", rel="edit", ref=others))
    assert edit["code"] == "forbidden"  # nobody edits someone else's, moderators neither
    delete: dict[str, Any] = await socket.request({"type": "delete", "room": slug, "seq": others})
    if who == "member":
        assert delete["code"] == "forbidden"
    else:
        assert delete["type"] == "ack"  # owners and moderators delete anyone's
    own = await socket.request({"type": "delete", "room": slug, "seq": sent["seq"]})
    assert own["type"] == "ack"  # and everyone their own
    await socket.close()
