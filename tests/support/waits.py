"""The fixed waits a test may have, each named for what it is for.

Tests wait on events: ``Bot.expect`` and ``wait_until`` (``tests/support/bot.py``), Playwright's
``expect(...)`` and ``wait_for_function``, ``poll`` (``tests/support/browser.py``),
``FirefoxPage.wait_for``. A fixed period is right only where no event can come:
"""

from __future__ import annotations

import asyncio


async def quiet_for(seconds: float) -> None:
    """Let ``seconds`` pass in which something must *not* happen; the caller checks afterwards
    that it did not (no message arrived, nobody left, no second rotation came). An event that
    does not come cannot be awaited: this is the one wait that proves an absence."""
    await asyncio.sleep(seconds)


async def drain(seconds: float) -> None:
    """Let what is already under way (media packets, frames in the pipeline) arrive before a count
    starts whose growth must then stop: nothing marks the last of them."""
    await asyncio.sleep(seconds)


async def lapse(seconds: float) -> None:
    """Let the wall-clock period that a time rule is about go by (a lockout, a session's
    lifetime), where the code under test reads the real clock: the time itself is the event."""
    await asyncio.sleep(seconds)
