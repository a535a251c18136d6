"""A Rathaus of its own with three accounts for the chat's integration tests: Olga owns the
rooms, Mia is a member of each, Tom is none. Each is signed in over HTTP with a device."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support import chat
from tests.support.chat import ChatSocket
from tests.support.server import RunningServer, running_server, server_settings, shared_janus

NAMES = {"olga": "Olga Owner", "mia": "Mia Member", "tom": "Tom Outsider"}


@dataclass
class Person:
    http: httpx.AsyncClient
    device: str


@dataclass
class World:
    rathaus: RunningServer
    people: dict[str, Person]

    async def socket(self, name: str) -> ChatSocket:
        person = self.people[name]
        return await ChatSocket.open(self.rathaus.ws, person.http, person.device)


@asynccontextmanager
async def chat_world(
    server: RunningServer, data: Path, **sections: dict[str, Any]
) -> AsyncIterator[World]:
    """``sections``: more settings (e.g. ``chat={…}``), as for ``server_settings``."""
    settings = server_settings(
        data, janus=shared_janus(server), meeting={"adhoc_rooms": None}, **sections
    )
    async with running_server(settings) as rathaus:
        people: dict[str, Person] = {}
        for username, display in NAMES.items():
            await rathaus.services.accounts.create_user(username, chat.PASSWORD, display)
            http = await chat.sign_in(rathaus.http, username)
            people[username] = Person(http, await chat.register_device(http))
        try:
            yield World(rathaus, people)
        finally:
            for person in people.values():
                await person.http.aclose()


async def new_room(world: World) -> str:
    """A room of Olga's with Mia as a member."""
    olga = world.people["olga"].http
    made = await olga.post("/api/rooms", json={"name": f"Team {secrets.token_hex(3)}"})
    assert made.status_code == 201, made.text
    slug: str = made.json()["slug"]
    added = await olga.put(f"/api/rooms/{slug}/roles/mia", json={"role": "member"})
    assert added.status_code in (200, 204), added.text
    return slug


async def open_room(socket: ChatSocket, slug: str, after: int | None = None) -> dict[str, Any]:
    await socket.send(
        {"type": "open", "room": slug, **({"after": after} if after is not None else {})}
    )
    return await socket.next("group", room=slug)


async def create_group(socket: ChatSocket, slug: str) -> bytes:
    group_id = secrets.token_bytes(16)
    answer = await socket.request(
        {"type": "create_group", "room": slug, "group_info": chat.b64(chat.group_info(group_id, 0))}
    )
    assert answer["type"] == "ack" and answer["seq"] == 1, answer
    return group_id


def commit_request(slug: str, group_id: bytes, epoch: int) -> dict[str, Any]:
    return {
        "type": "commit",
        "room": slug,
        "commit": chat.b64(chat.commit(group_id, epoch)),
        "group_info": chat.b64(chat.group_info(group_id, epoch + 1)),
    }


def send_request(
    slug: str, group_id: bytes, epoch: int, body: bytes, **relation: Any
) -> dict[str, Any]:
    message = chat.b64(chat.message(group_id, epoch, body))
    return {"type": "send", "room": slug, "message": message, **relation}
