"""Many participants without many browsers: aiortc bots (``tests/support/bot.py``) that join a
meeting one after the other, and publish a colour and a tone if asked; and what a browser page
shows and receives of them (tiles on other pages are hidden, so they are found by participant id,
not by role)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from playwright.async_api import Locator, Page

from tests.support.bot import Bot
from tests.support.pages import AUDIO_PEAK
from tests.support.server import RunningServer

# (name, tone in Hz): None joins without publishing, 0 publishes silence (never "talking").
Member = tuple[str, float | None]


@contextlib.asynccontextmanager
async def crowd(
    server: RunningServer, room: str, members: Sequence[Member]
) -> AsyncIterator[list[Bot]]:
    """The bots join ``room`` in this order (the order everyone lists them in), and leave after."""
    bots: list[Bot] = []
    try:
        for n, (name, tone) in enumerate(members):
            bot = Bot(server.ws, room, name)
            bots.append(bot)
            await bot.join()
            if tone is not None:
                await bot.publish(((40 + 30 * n) % 256, 120, (200 + 25 * n) % 256), tone)
        yield bots
    finally:
        for bot in bots:
            await bot.close()


def ids(bots: Sequence[Bot]) -> list[str]:
    return [str(bot.welcome["self"]["id"]) for bot in bots]


def tile_of(page: Page, participant: str) -> Locator:
    """A camera tile by participant id, shown or not."""
    return page.locator(f".tile-camera[data-participant-id='{participant}']")


async def feeds_of(page: Page) -> dict[str, str]:
    """participant id → feed id of the camera subscriptions."""
    state: dict[str, Any] = await page.evaluate("window.rathaus.state()")
    return {s["participant"]: s["feed"] for s in state["subscriptions"] if s["kind"] == "camera"}


async def video_received(page: Page) -> dict[str, int]:
    """feed id → video packets its subscription received so far (the browser's getStats)."""
    got: dict[str, dict[str, int]] = await page.evaluate("window.rathaus.videoReceived()")
    return {feed: counts["packets"] for feed, counts in got.items()}


async def audio_peak(page: Page, participant: str) -> float:
    """The loudest sample over 3 s of a participant's tile's audio (shown or not), and whether
    its element plays: -1 without audio, -2 when paused."""
    peak: float = (
        await tile_of(page, participant)
        .locator("video")
        .evaluate(f"async (v) => v.paused ? -2 : ({AUDIO_PEAK})(v.srcObject)")
    )
    return peak
