"""Firefox and Chromium meet in one room: anyone opens the link in either browser."""

from __future__ import annotations

from playwright.async_api import expect

from tests.support.browser import OpenPage
from tests.support.firefox import FirefoxPage
from tests.support.firefox_pages import (
    audio_is_heard_in_firefox,
    join_in_firefox,
    video_is_playing_in_firefox,
)
from tests.support.pages import audio_is_heard, join, room, video_is_playing


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
