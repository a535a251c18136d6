"""Replies, edits, reactions and deletion as the delivery service holds them: an edit only by the
author of what it edits, reactions counted, deletion by the author or a moderator that removes
the ciphertext (and that of its edits and reactions) from the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rathaus.chat import service
from rathaus.db.models import ChatEventRow
from tests.support.chat_world import World, create_group, new_room, open_room, send_request


async def stored_body(world: World, slug: str, seq: int) -> bytes | None:
    room = await world.rathaus.services.rooms.get(slug)
    async with world.rathaus.services.chat._sessions() as session:  # the test reads the database
        row = await session.scalar(
            select(ChatEventRow).where(ChatEventRow.room_id == room.id, ChatEventRow.seq == seq)
        )
    assert row is not None
    return row.body


async def test_edits_belong_to_the_author_replies_and_reactions_to_anyone(world: World) -> None:
    slug = await new_room(world)
    olga, mia = await world.socket("olga"), await world.socket("mia")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    await open_room(mia, slug)
    first = await olga.request(send_request(slug, group_id, 0, b"Vorlage"))
    seq = first["seq"]
    edit = await olga.request(send_request(slug, group_id, 0, b"Vorlage 2", rel="edit", ref=seq))
    assert edit["type"] == "ack"
    foreign = await mia.request(send_request(slug, group_id, 0, b"mine now", rel="edit", ref=seq))
    assert foreign["code"] == "forbidden"
    reply = await mia.request(send_request(slug, group_id, 0, b"gut", rel="reply", ref=seq))
    react = await mia.request(send_request(slug, group_id, 0, b"+1", rel="react", ref=seq))
    assert reply["type"] == react["type"] == "ack"
    on_edit = await mia.request(send_request(slug, group_id, 0, b"x", rel="react", ref=edit["seq"]))
    assert on_edit["code"] == "not_found"  # an edit or reaction is nothing to react to
    events = await mia.events(slug, 4)
    assert [(e["rel"], e["ref"]) for e in events] == [
        (None, None),
        ("edit", seq),
        ("reply", seq),
        ("react", seq),
    ]
    half = {"type": "send", "room": slug, "message": "AAEAAg", "rel": "edit"}
    assert (await olga.request(half))["code"] == "bad_message"  # rel without ref


async def test_the_author_or_a_moderator_deletes_and_the_ciphertext_is_gone(
    world: World,
) -> None:
    slug = await new_room(world)
    olga, mia = await world.socket("olga"), await world.socket("mia")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    await open_room(mia, slug)
    mine = (await mia.request(send_request(slug, group_id, 0, b"von Mia")))["seq"]
    edit = (await mia.request(send_request(slug, group_id, 0, b"2", rel="edit", ref=mine)))["seq"]
    react = (await olga.request(send_request(slug, group_id, 0, b"+", rel="react", ref=mine)))[
        "seq"
    ]
    hers = (await olga.request(send_request(slug, group_id, 0, b"von Olga")))["seq"]
    refused = await mia.request({"type": "delete", "room": slug, "seq": hers})
    assert refused["code"] == "forbidden"  # a member deletes only her own
    assert (await mia.request({"type": "delete", "room": slug, "seq": mine}))["type"] == "ack"
    for seq in (mine, edit, react):
        assert await stored_body(world, slug, seq) is None
    assert await stored_body(world, slug, hers) is not None
    # Olga owns the room: she may delete what anyone wrote; and deleting twice finds nothing.
    assert (await olga.request({"type": "delete", "room": slug, "seq": hers}))["type"] == "ack"
    again = await olga.request({"type": "delete", "room": slug, "seq": mine})
    assert again["code"] == "not_found"  # deleted already
    gone = await olga.request(send_request(slug, group_id, 0, b"re", rel="reply", ref=mine))
    assert gone["code"] == "not_found"
    seen = [e for e in await mia.events(slug, 6) if e["kind"] == "delete"]
    assert [(e["ref"], e["user"], e["body"]) for e in seen] == [
        (mine, "mia", None),
        (hers, "olga", None),
    ]


async def test_reactions_per_message_are_limited(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_REACTIONS", 3)
    slug = await new_room(world)
    olga = await world.socket("olga")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    seq = (await olga.request(send_request(slug, group_id, 0, b"Abstimmen?")))["seq"]
    answers = [
        await olga.request(send_request(slug, group_id, 0, b"+", rel="react", ref=seq))
        for _ in range(4)
    ]
    assert [a["type"] for a in answers] == ["ack", "ack", "ack", "error"]
    assert answers[-1]["code"] == "limit_reached"
