"""Rooms that must exist: with ad-hoc rooms off, unknown links get a clear page and close code."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.support.bot import Bot
from tests.support.server import RunningServer, running_server, server_settings, shared_janus


@pytest.fixture
async def closed_server(
    server: RunningServer, tmp_path: Path, postgres_url: str
) -> AsyncIterator[RunningServer]:
    """A second Rathaus without ad-hoc rooms, on PostgreSQL, and on the first one's Janus as an
    external node."""
    settings = server_settings(
        tmp_path,
        meeting={"adhoc_rooms": False},
        janus=shared_janus(server),
        database={"url": postgres_url},
    )
    async with running_server(settings) as running:
        yield running


async def test_unknown_rooms_are_refused_clearly(closed_server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=closed_server.http) as http:
        page = await http.get("/r/nobody-made-this", headers={"accept-language": "en"})
        assert page.status_code == 404 and "Room not found" in page.text
        created = await http.post("/api/rooms", json={"name": "Kulturausschuss"})
        assert created.status_code == 201
        assert (await http.get("/r/kulturausschuss")).status_code == 200

    async with connect(f"{closed_server.ws}/ws/rooms/nobody-made-this") as ws:
        error = json.loads(await ws.recv())
        assert error["type"] == "error" and error["code"] == "unknown_room"
        await ws.wait_closed()
        assert ws.close_code == 4404

    bot = Bot(closed_server.ws, "kulturausschuss", "Eva")
    try:
        assert (await bot.join())["self"]["name"] == "Eva"
    finally:
        await bot.close()
