"""Firefox in an end-to-end encrypted meeting with Chromium, through a real Janus: Firefox encrypts
and decrypts with the standard ``RTCRtpScriptTransform`` (it has no legacy API), each browser
decodes the other's real picture, and both show the same safety code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.support.browser import OpenPage, poll
from tests.support.e2ee_pages import decrypting, e2ee, received, room, safety_code
from tests.support.firefox import FirefoxPage, firefox_on
from tests.support.firefox_pages import (
    TILE,
    audio_is_heard_in_firefox,
    join_in_firefox,
    video_is_playing_in_firefox,
)
from tests.support.pages import WAIT, audio_is_heard, grid, join, video_is_playing
from tests.support.server import RunningServer

# The mean colour of the tile's video over a 4x3 grid, as GRID of tests/support/pages.py.
FIREFOX_GRID = (
    TILE
    + """const v = tile?.querySelector('video');
    if (!v || v.videoWidth === 0) return null;
    const ctx = new OffscreenCanvas(4, 3).getContext('2d');
    ctx.drawImage(v, 0, 0, 4, 3);
    return Array.from(ctx.getImageData(0, 0, 4, 3).data);"""
)

# Decoded video frames: Firefox's painted-frame count of a tile, its video frames decrypted.
FIREFOX_FRAMES = (
    TILE
    + """const t = window.rathaus.state().e2ee.stats?.transforms ?? {};
    const decrypted = Object.values(t)
        .filter((x) => x.role === 'receiver' && x.kind === 'video')
        .reduce((n, x) => n + x.frames, 0);
    return [tile?.querySelector('video')?.mozPaintedFrames ?? 0, decrypted];"""
)

# Which WebRTC encoded transform API the page has (transforms.js takes the standard one if present).
APIS = """return {
    scriptTransform: typeof RTCRtpScriptTransform,
    createEncodedStreams: typeof RTCRtpSender.prototype.createEncodedStreams,
};"""


@pytest.fixture
async def e2ee_firefox(
    e2ee_server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FirefoxPage]:
    """A Firefox window on the E2EE server; E2EE errors in its console fail."""
    monkeypatch.setenv("SE_OFFLINE", "true")
    async with firefox_on(
        e2ee_server, tmp_path / "geckodriver.log", console_errors_with="e2ee"
    ) as page:
        yield page


async def firefox_e2ee(firefox: FirefoxPage) -> dict[str, Any]:
    return dict(await firefox.js("return window.rathaus.state().e2ee"))


async def firefox_decrypting(firefox: FirefoxPage) -> dict[str, Any]:
    """Firefox decrypts the video of its one remote participant, and encrypts its own."""
    await firefox.wait_for(
        """const s = window.rathaus.state().e2ee.stats;
        const t = s ? Object.values(s.transforms) : [];
        return s && s.decrypted > 0 && s.encrypted > 0
            && t.some((x) => x.role === 'receiver' && x.kind === 'video' && x.frames > 0)
            && t.some((x) => x.role === 'sender' && x.kind === 'video' && x.frames > 0);""",
        timeout=WAIT / 1000,
        what="Firefox encrypting its video and decrypting Chris's",
    )
    return await firefox_e2ee(firefox)


async def firefox_grid(firefox: FirefoxPage, tile_name: str) -> list[int] | None:
    value = await firefox.js(FIREFOX_GRID, tile_name)
    return None if value is None else [int(x) for x in value]


def distance(a: list[int] | None, b: list[int] | None) -> int:
    if a is None or b is None:
        return 256
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


Grid = Callable[[], Awaitable[list[int] | None]]


async def same_picture(seen: Grid, own: Grid, what: str) -> None:
    """``seen()`` (a remote tile) and ``own()`` (the sender's preview), read at the same moment,
    have the same coarse colours: the remote tile decodes the real picture, not noise."""
    deadline = asyncio.get_running_loop().time() + WAIT / 1000
    while True:
        a, b = await asyncio.gather(seen(), own())
        if distance(a, b) < 40:
            return
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{what} differs by {distance(a, b)}: {a} vs {b}")
        await asyncio.sleep(0.3)


async def keeps_decoding(firefox: FirefoxPage, chris: Page) -> None:
    """Each browser decrypts and paints more than ten more of the other's video frames."""
    shown = chris.get_by_role("group", name="Fiona", exact=True).locator("video")
    frames = "v => v.getVideoPlaybackQuality().totalVideoFrames"

    async def counts() -> dict[str, int]:
        ff_painted, ff_decrypted = await firefox.js(FIREFOX_FRAMES, "Chris")
        return {
            "Firefox painted": ff_painted,
            "Firefox decrypted": ff_decrypted,
            "Chromium decoded of Fiona's": await shown.evaluate(frames),
            "Chromium decrypted": received((await e2ee(chris))["stats"], "video"),
        }

    before = await counts()
    await poll(  # the worker's stats come every second
        counts,
        lambda now: all(now[what] > before[what] + 10 for what in before),
        f"ten more frames each than {before}",
        WAIT / 1000,
    )


async def firefox_safety_code(firefox: FirefoxPage) -> str:
    """The code Firefox shows in its "Safety code" region (visible, as its state says), in the
    "Encryption" panel that the encryption badge opens (closed again after)."""
    await firefox.click("#e2ee-indicator")
    code = await firefox.wait_for(
        """const region = document.getElementById('safety');
        const code = window.rathaus.state().e2ee.safetyCode;
        return code && !region.hidden && region.checkVisibility()
            && document.getElementById('safety-label').textContent.trim() === 'Safety code'
            && document.getElementById('safety-code').textContent === code && code;""",
        timeout=WAIT / 1000,
        what="the safety code shown",
    )
    await firefox.js("document.getElementById('e2ee-dialog').close();")
    return str(code)


async def test_firefox_and_chromium_in_an_encrypted_meeting(
    e2ee_firefox: FirefoxPage, open_e2ee_page: OpenPage
) -> None:
    firefox = e2ee_firefox
    name = room()
    await join_in_firefox(firefox, name, "Fiona")
    chris: Page = await join(open_e2ee_page, name, "Chris")

    # Firefox has the standard API only: every transform in its worker came from rtctransform.
    assert await firefox.js(APIS) == {
        "scriptTransform": "function",
        "createEncodedStreams": "undefined",
    }, f"Firefox {firefox.version}"

    await video_is_playing(chris, "Fiona")
    await video_is_playing_in_firefox(firefox, "Chris")
    fiona = await firefox_decrypting(firefox)
    chris_state = await decrypting(chris, 1)
    for state in (fiona, chris_state):
        assert state["on"] and state["encrypted"], state
        assert not state["stats"]["dropped"].get("auth"), state["stats"]["dropped"]
        assert state["stats"]["encrypted"] > 0

    # Each decodes the other's real picture: the remote tile matches the sender's own preview.
    await same_picture(
        lambda: grid(chris, "Fiona"), lambda: firefox_grid(firefox, "Fiona"), "Fiona on Chris"
    )
    await same_picture(
        lambda: firefox_grid(firefox, "Chris"), lambda: grid(chris, "Chris"), "Chris on Fiona"
    )

    await keeps_decoding(firefox, chris)

    # Audio too: decrypted both ways, and the fake microphones' tones are heard.
    fiona, chris_state = await firefox_e2ee(firefox), await e2ee(chris)
    assert received(fiona["stats"], "audio") > 0, fiona["stats"]
    assert received(chris_state["stats"], "audio") > 0, chris_state["stats"]
    await audio_is_heard(chris, "Fiona")
    await audio_is_heard_in_firefox(firefox, "Chris")

    # Both say so, and show the same safety code.
    await expect(chris.locator("#e2ee-indicator")).to_have_text("End-to-end encrypted")
    await firefox.wait_for(
        "return document.getElementById('e2ee-indicator').textContent.trim()"
        " === 'End-to-end encrypted'",
        what="Firefox's indicator to say End-to-end encrypted",
    )
    assert await firefox_safety_code(firefox) == await safety_code(chris, 2)
