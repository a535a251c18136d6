"""The meeting page in Chromium (Playwright): joining, whether a tile's video plays and its sound is
heard, whether it shows its sender's real picture, and WCAG 2.1 AA checks with axe-core."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.support.browser import OpenPage

WAIT = 20_000  # ms

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

LABELS = {
    "en": ("Your name", "Join meeting", "Leave meeting"),
    "de": ("Ihr Name", "Besprechung beitreten", "Besprechung verlassen"),
}


def room(prefix: str = "b-") -> str:
    """A new room name (an ad-hoc room)."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def join(
    open_page: OpenPage,
    room_name: str,
    name: str,
    lang: str = "en",
    before: Callable[[Page], Awaitable[None]] | None = None,
) -> Page:
    """A new page (``open_page``) joins ``room_name`` as ``name``, in the UI language ``lang``;
    ``before`` prepares the page before it loads."""
    your_name, join_meeting, leave_meeting = LABELS[lang]
    page = await open_page(f"/r/{room_name}?lang={lang}", before=before)
    await page.get_by_role("textbox", name=your_name).fill(name)
    await page.get_by_role("button", name=join_meeting).click()
    await expect(page.get_by_role("button", name=leave_meeting)).to_be_visible(timeout=WAIT)
    return page


async def video_is_playing(page: Page, tile_name: str) -> None:
    """The tile's video has decoded frames and keeps advancing."""
    video = page.get_by_role("group", name=tile_name, exact=True).locator("video")
    await expect(video).to_have_count(1, timeout=WAIT)
    await page.wait_for_function(
        """(v) => v.videoWidth > 0 && v.currentTime > 0.5""",
        arg=await video.element_handle(),
        timeout=WAIT,
    )
    before = await video.evaluate("v => v.currentTime")
    await page.wait_for_function(
        "([v, before]) => v.currentTime > before",
        arg=[await video.element_handle(), before],
        timeout=WAIT,
    )


# The loudest sample of a stream's audio over 3 s, -1 without audio (used in Firefox too).
AUDIO_PEAK = """async (stream) => {
    if (!stream || stream.getAudioTracks().length === 0) return -1;
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    ctx.createMediaStreamSource(stream).connect(analyser);
    const data = new Float32Array(analyser.fftSize);
    let peak = 0;
    const end = performance.now() + 3000;
    while (performance.now() < end) {
        analyser.getFloatTimeDomainData(data);
        for (const x of data) peak = Math.max(peak, Math.abs(x));
        await new Promise((r) => setTimeout(r, 50));
    }
    await ctx.close();
    return peak;
}"""


async def audio_is_heard(page: Page, tile_name: str) -> None:
    """The remote audio track in the tile carries sound (Chromium's fake microphone beeps)."""
    video = page.get_by_role("group", name=tile_name, exact=True).locator("video")
    peak = await video.evaluate(f"(v) => ({AUDIO_PEAK})(v.srcObject)")
    assert peak > 0.01, f"no sound from {tile_name}'s tile (peak {peak})"


# The mean colour of a video, over a 4x3 grid: Chromium's fake camera draws a steady background
# with a small moving pattern, so a decoded picture of it matches its sender's own preview, and
# noise decoded from ciphertext does not.
GRID = """async (v) => {
    const canvas = new OffscreenCanvas(4, 3);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(v, 0, 0, 4, 3);
    return Array.from(ctx.getImageData(0, 0, 4, 3).data);
}"""


async def grid(page: Page, tile_name: str) -> list[int]:
    video = page.get_by_role("group", name=tile_name, exact=True).locator("video")
    return list(await video.evaluate(GRID))


async def shows_the_picture_of(viewer: Page, sender: Page, name: str) -> None:
    """``viewer`` decodes ``name``'s real picture: its tile matches ``sender``'s own preview."""
    await video_is_playing(viewer, name)
    deadline = asyncio.get_running_loop().time() + WAIT / 1000
    while True:
        seen, own = await grid(viewer, name), await grid(sender, name)
        distance = max(abs(a - b) for a, b in zip(seen, own, strict=True))
        if distance < 40:
            return
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{name}'s picture differs by {distance}: {seen} vs {own}")
        await asyncio.sleep(0.3)


async def violations(page: Page) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations axe-core (from npm, run inside the page) finds on the page."""
    if not AXE.is_file():
        pytest.fail("axe-core is missing: make test runs npm ci", pytrace=False)
    # Evaluated through the DevTools protocol, so the page's CSP does not block it.
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.html).slice(0, 3)}))",
        WCAG_AA,
    )
    return list(result)
