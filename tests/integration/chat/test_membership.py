"""Members' devices in a room's group: key packages waiting on the server, claimed once by a
member's device that adds the missing devices with a welcome (so an offline member reads from
then on), and the devices of someone who left named for removal."""

from __future__ import annotations

import httpx

from tests.support import chat
from tests.support.chat_world import World, create_group, new_room, open_room, send_request


async def publish(http: httpx.AsyncClient, device: str, *packages: bytes) -> httpx.Response:
    body = {"device": device, "key_packages": [chat.b64(p) for p in packages]}
    return await http.post("/api/chat/key-packages", json=body)


async def test_key_packages_are_checked_and_limited(world: World) -> None:
    mia = world.people["mia"]
    device = await chat.register_device(mia.http)
    answer = await publish(mia.http, device, chat.key_package(), chat.key_package())
    assert answer.status_code == 200 and answer.json() == {"waiting": 2}
    wrong = await publish(mia.http, device, chat.key_package(cipher_suite=3))
    assert wrong.status_code == 400 and wrong.json()["code"] == "bad_message"
    garbage = await publish(mia.http, device, chat.commit(b"g" * 16, 0))
    assert garbage.json()["code"] == "bad_message"
    foreign = await publish(world.people["olga"].http, device, chat.key_package())
    assert foreign.status_code == 404 and foreign.json()["code"] == "unknown_device"
    for _ in range(2):
        full = await publish(mia.http, device, *[chat.key_package() for _ in range(24)])
    assert full.json() == {"waiting": 50}
    over = await publish(mia.http, device, chat.key_package())
    assert over.json()["code"] == "limit_reached"
    socket = await chat.ChatSocket.open(world.rathaus.ws, mia.http, None)
    await socket.send({"type": "hello", "device": device})
    assert (await socket.next("ready"))["key_packages"] == 50
    await socket.close()


async def test_an_offline_member_is_added_and_reads_from_then_on(world: World) -> None:
    slug = await new_room(world)
    mia = world.people["mia"]
    laptop = await chat.register_device(mia.http)  # never online in this room yet
    await publish(mia.http, laptop, chat.key_package(), chat.key_package())
    olga = await world.socket("olga")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    await olga.request(send_request(slug, group_id, 0, b"before"))
    claimed = await olga.request({"type": "claim", "room": slug})
    assert claimed["type"] == "claimed" and claimed["stale"] == []
    found = {d["device"]: d for d in claimed["devices"]}
    assert laptop in found and found[laptop]["user"] == "mia"
    assert world.people["olga"].device not in found  # hers is in the group
    added = await olga.request(
        {
            **{k: v for k, v in (await _commit(slug, group_id, 0)).items()},
            "adds": [laptop],
            "welcome": chat.b64(chat.welcome()),
        }
    )
    assert added["type"] == "ack"
    await olga.request(send_request(slug, group_id, 1, b"after"))
    again = await olga.request({"type": "claim", "room": slug})
    assert laptop not in {d["device"] for d in again["devices"]}  # in the group now

    # Mia's laptop comes online: its welcome, and what followed the commit that added it
    socket = await chat.ChatSocket.open(world.rathaus.ws, mia.http, laptop)
    state = await open_room(socket, slug)
    assert state["welcome_seq"] == added["seq"] and state["welcome"]
    (after,) = await socket.events(slug, 1)
    assert chat.unb64(after["body"]).endswith(b"after")
    # Once it reads with its own group, the welcome is spent
    await socket.send({"type": "close", "room": slug})
    await open_room(socket, slug, after=after["seq"])
    await socket.send({"type": "close", "room": slug})
    assert (await open_room(socket, slug))["welcome"] is None
    await socket.close()


async def test_only_members_devices_are_added_and_leavers_are_named(world: World) -> None:
    slug = await new_room(world)
    olga = await world.socket("olga")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    tom = world.people["tom"]
    refused = await olga.request(
        {
            **(await _commit(slug, group_id, 0)),
            "adds": [tom.device],
            "welcome": chat.b64(chat.welcome()),
        }
    )
    assert refused["code"] == "bad_request"
    no_welcome = await olga.request({**(await _commit(slug, group_id, 0)), "adds": [tom.device]})
    assert no_welcome["code"] == "bad_request"
    # Mia joins by external commit; then Olga takes her out of the room
    mia = await world.socket("mia")
    await open_room(mia, slug)
    external = chat.commit(group_id, 0)
    external = external[:4] + external[4 : 4 + 17 + 8] + b"\x04" + external[4 + 17 + 8 + 5 :]
    joined = await mia.request(
        {
            "type": "commit",
            "room": slug,
            "commit": chat.b64(external),
            "group_info": chat.b64(chat.group_info(group_id, 1)),
        }
    )
    assert joined["type"] == "ack"
    assert world.people["mia"].device not in {
        d["device"] for d in (await olga.request({"type": "claim", "room": slug}))["devices"]
    }
    gone = await world.people["olga"].http.delete(f"/api/rooms/{slug}/roles/mia")
    assert gone.status_code == 204
    # Her open socket is told at once and gets nothing the room says after this
    cut = await mia.next("error", room=slug)
    assert cut["code"] == "forbidden"
    without = await olga.request(send_request(slug, group_id, 1, b"ohne Mia"))
    claimed = await olga.request({"type": "claim", "room": slug})
    assert claimed["stale"] == [world.people["mia"].device]
    seen = [e["seq"] for f in mia.frames if f.get("type") == "events" for e in f["events"]]
    assert without["seq"] not in seen
    await mia.send({"type": "open", "room": slug})
    assert (await mia.next("error"))["code"] == "forbidden"
    removed = await olga.request(
        {**(await _commit(slug, group_id, 1)), "removes": [world.people["mia"].device]}
    )
    assert removed["type"] == "ack"
    assert (await olga.request({"type": "claim", "room": slug}))["stale"] == []


async def _commit(slug: str, group_id: bytes, epoch: int) -> dict[str, object]:
    return {
        "type": "commit",
        "room": slug,
        "commit": chat.b64(chat.commit(group_id, epoch)),
        "group_info": chat.b64(chat.group_info(group_id, epoch + 1)),
    }
