"""A member's conversation list: rooms and direct conversations, newest activity first, with their
own unread counts (others' messages and replies, not edits, reactions or what was deleted), and
read markers nobody else sees."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.chat_world import World, create_group, new_room, open_room, send_request


async def conversations(world: World, name: str) -> dict[str, dict[str, Any]]:
    answer = await world.people[name].http.get("/api/chat/conversations")
    assert answer.status_code == 200, answer.text
    return {c["slug"]: c for c in answer.json()}


async def test_unread_counts_are_each_members_own(world: World) -> None:
    quiet, busy = await new_room(world), await new_room(world)
    olga, mia = await world.socket("olga"), await world.socket("mia")
    await open_room(olga, busy)
    group_id = await create_group(olga, busy)
    await open_room(mia, busy)
    first = await olga.request(send_request(busy, group_id, 0, b"eins"))
    await olga.request(send_request(busy, group_id, 0, b"zwei"))
    await olga.request(send_request(busy, group_id, 0, b"+", rel="react", ref=first["seq"]))
    await olga.request(send_request(busy, group_id, 0, b"eins!", rel="edit", ref=first["seq"]))
    reply = await mia.request(send_request(busy, group_id, 0, b"drei", rel="reply", ref=2))
    mias = await conversations(world, "mia")
    assert mias[busy]["unread"] == 2  # Olga's two messages; not her reaction or edit, not Mia's own
    assert next(iter(mias)) == busy  # the newest activity first
    assert mias[quiet]["unread"] == 0 and mias[busy]["name"].startswith("Team")
    assert (await conversations(world, "olga"))[busy]["unread"] == 1  # Mia's reply
    await mia.send({"type": "read", "room": busy, "seq": reply["seq"]})
    await mia.send({"type": "read", "room": busy, "seq": 1})  # never backwards
    await asyncio.sleep(0.2)
    assert (await conversations(world, "mia"))[busy]["unread"] == 0
    assert (await conversations(world, "olga"))[busy]["unread"] == 1  # her marker is her own
    await olga.request({"type": "delete", "room": busy, "seq": reply["seq"]})
    assert (await conversations(world, "olga"))[busy]["unread"] == 0
    assert busy not in await conversations(world, "tom")


async def test_a_direct_conversation_is_named_after_the_other_member(world: World) -> None:
    made = await world.people["olga"].http.post("/api/direct/mia")
    assert made.status_code in (200, 201), made.text
    slug = made.json()["slug"]
    olgas, mias = await conversations(world, "olga"), await conversations(world, "mia")
    assert (olgas[slug]["name"], olgas[slug]["partner"], olgas[slug]["kind"]) == (
        "Mia Member",
        "mia",
        "direct",
    )
    assert (mias[slug]["name"], mias[slug]["partner"]) == ("Olga Owner", "olga")
