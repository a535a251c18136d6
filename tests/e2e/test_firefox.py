"""Firefox and Chromium meet in one room: anyone opens the link in either browser."""

from __future__ import annotations

import asyncio

from playwright.async_api import expect

from tests.e2e.conftest import OpenPage
from tests.e2e.firefox import FirefoxPage
from tests.e2e.firefox import firefox_fixture as firefox_fixture  # the `firefox` fixture
from tests.e2e.test_meeting_in_browser import (
    AUDIO_PEAK,
    audio_is_heard,
    join,
    room,
    video_is_playing,
)

# The tile of ``arguments[0]`` (its accessible name), as Playwright's get_by_role("group") finds it.
TILE = """const tile = [...document.querySelectorAll('[role=group]')]
    .find((el) => el.getAttribute('aria-label') === arguments[0]);"""


async def join_in_firefox(firefox: FirefoxPage, room_name: str, name: str) -> None:
    await firefox.goto(f"/r/{room_name}?lang=en")
    await firefox.wait_for(
        "return document.querySelector('label[for=name-input]')?.textContent.trim()"
        " === 'Your name'",
        what='the textbox "Your name"',
    )
    await firefox.type_into("#name-input", name)
    join_label = await firefox.js("return document.getElementById('join-button').textContent")
    assert join_label.strip() == "Join meeting"
    await firefox.click("#join-button")
    await firefox.wait_for(
        """const b = document.getElementById('leave-button');
        return b.checkVisibility() && b.textContent.trim() === 'Leave meeting';""",
        what='the button "Leave meeting"',
    )


async def video_is_playing_in_firefox(firefox: FirefoxPage, tile_name: str) -> None:
    """The tile's video has decoded frames and keeps advancing."""
    state = (
        TILE + "const v = tile?.querySelector('video'); return v && [v.videoWidth, v.currentTime];"
    )
    await firefox.wait_for(
        TILE + "const v = tile?.querySelector('video'); return v && v.videoWidth > 0"
        " && v.currentTime > 0.5;",
        tile_name,
        what=f"decoded video in {tile_name}'s tile",
    )
    _, before = await firefox.js(state, tile_name)
    await asyncio.sleep(0.6)
    width, after = await firefox.js(state, tile_name)
    assert width > 0 and after > before, f"{tile_name}'s video stands still in Firefox"


async def audio_is_heard_in_firefox(firefox: FirefoxPage, tile_name: str) -> None:
    """The remote audio in the tile carries sound (Chromium's fake microphone beeps)."""
    peak = await firefox.js_async(
        TILE
        + "const done = arguments[arguments.length - 1];"
        + f"({AUDIO_PEAK})(tile?.querySelector('video')?.srcObject).then(done);",
        tile_name,
    )
    assert peak > 0.01, f"no sound from {tile_name}'s tile in Firefox (peak {peak})"


async def test_firefox_and_chromium_see_and_hear_each_other(
    firefox: FirefoxPage, open_page: OpenPage
) -> None:
    name = room()
    await join_in_firefox(firefox, name, "Fiona")
    chris = await join(open_page, name, "Chris")

    await video_is_playing(chris, "Fiona")
    await video_is_playing_in_firefox(firefox, "Chris")
    await audio_is_heard(chris, "Fiona")  # Firefox's fake microphone plays a tone
    await audio_is_heard_in_firefox(firefox, "Chris")

    microphone = "#mic-button"
    label = await firefox.js(f"return document.querySelector('{microphone}').textContent")
    assert label.strip() == "Microphone"
    assert await firefox.js(f"return document.querySelector('{microphone}').ariaPressed") == "true"
    await firefox.click(microphone)
    await firefox.wait_for(
        f"return document.querySelector('{microphone}').getAttribute('aria-pressed') === 'false'",
        what="the microphone button to show muted",
    )
    fiona_on_chris = chris.get_by_role("group", name="Fiona", exact=True)
    await expect(fiona_on_chris.get_by_role("img", name="Microphone muted")).to_be_visible()
    await video_is_playing(chris, "Fiona")
