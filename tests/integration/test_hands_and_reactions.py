"""Raised hands and reactions through Rathaus's real WebSocket, with bots (no media needed)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.bot import Bot, wait_until
from tests.support.rooms import saw, unique
from tests.support.server import RunningServer
from tests.support.waits import quiet_for

pytestmark = pytest.mark.janus


def queue(message: dict[str, Any]) -> list[tuple[str, int]]:
    return [(h["participant"], h["position"]) for h in message["hands"]]


async def sees(bot: Bot, expected: list[tuple[str, int]]) -> None:
    """The newest `hands` that ``bot`` got shows this queue."""

    def latest() -> list[tuple[str, int]] | None:
        got = saw(bot, "hands")
        return queue(got[-1]) if got else None

    await wait_until(lambda: latest() == expected, timeout=5, what=f"{bot.name} sees {expected}")


async def test_the_queue_of_hands_over_the_socket(server: RunningServer) -> None:
    slug = unique("hands-")
    olga, anna, ben = (
        Bot(server.ws, slug, "Olga"),
        Bot(server.ws, slug, "Anna"),
        Bot(server.ws, slug, "Ben"),
    )
    try:
        assert (await olga.join())["self"]["role"] == "moderator"  # first in a room nobody owns
        anna_id = (await anna.join())["self"]["id"]
        await anna.send({"type": "raise_hand", "raised": True})
        await sees(olga, [(anna_id, 1)])

        welcome = await ben.join()
        ben_id = welcome["self"]["id"]
        assert queue(welcome) == [(anna_id, 1)]  # a joiner sees the hands already up
        await ben.send({"type": "raise_hand", "raised": True})
        await sees(anna, [(anna_id, 1), (ben_id, 2)])

        await anna.send({"type": "lower_hand", "id": ben_id})
        refused = await anna.expect("error")
        assert (refused["code"], refused["ref"]) == ("forbidden", "lower_hand")
        await olga.send({"type": "lower_hand", "id": ben_id})
        await sees(ben, [(anna_id, 1)])
        shown = await anna.expect("moderation", action="lower_hand")
        assert shown["target"] == ben_id

        await anna.close()  # leaving lowers the hand
        await sees(olga, [])
    finally:
        for bot in (olga, anna, ben):
            await bot.close()


async def test_reactions_are_checked_and_limited_over_the_socket(server: RunningServer) -> None:
    slug = unique("react-")
    anna, ben = Bot(server.ws, slug, "Anna"), Bot(server.ws, slug, "Ben")
    try:
        anna_id = (await anna.join())["self"]["id"]
        await ben.join()
        await anna.send({"type": "react", "reaction": "🎉"})
        refused = await anna.expect("error")
        assert (refused["code"], refused["ref"]) == ("bad_message", "react")

        for _ in range(7):
            await anna.send({"type": "react", "reaction": "applause"})
        limited = await anna.expect("error")
        assert (limited["code"], limited["ref"]) == ("rate_limited", "react")
        await quiet_for(0.3)
        got = saw(ben, "reaction")
        assert got and all(
            m == {"type": "reaction", "participant": anna_id, "reaction": "applause"} for m in got
        )
        assert len(got) == 5  # the burst, and no more within the same moment
        assert len(saw(anna, "reaction")) == 5  # the sender sees their own
    finally:
        for bot in (anna, ben):
            await bot.close()
