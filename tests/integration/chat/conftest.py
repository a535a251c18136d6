"""The chat's integration tests share one Rathaus per module (tests/support/chat_world.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.chat_world import World, chat_world
from tests.support.server import RunningServer


@pytest.fixture(scope="module")
async def world(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    async with chat_world(server, tmp_path_factory.mktemp("chat")) as found:
        yield found
