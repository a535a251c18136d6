"""The meeting page in Firefox (``tests/support/firefox.py``): joining, and whether a tile's video
plays and its sound is heard, as ``tests/support/pages.py`` checks them in Chromium."""

from __future__ import annotations

from tests.support.firefox import FirefoxPage
from tests.support.pages import AUDIO_PEAK

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
    video = TILE + "const v = tile?.querySelector('video');"
    await firefox.wait_for(
        video + "return v && v.videoWidth > 0 && v.currentTime > 0.5;",
        tile_name,
        what=f"decoded video in {tile_name}'s tile",
    )
    before = await firefox.js(video + "return v.currentTime;", tile_name)
    await firefox.wait_for(
        video + "return v && v.videoWidth > 0 && v.currentTime > arguments[1];",
        tile_name,
        before,
        what=f"{tile_name}'s video to go on (it stands still in Firefox)",
    )


async def audio_is_heard_in_firefox(firefox: FirefoxPage, tile_name: str) -> None:
    """The remote audio in the tile carries sound (Chromium's fake microphone beeps)."""
    peak = await firefox.js_async(
        TILE
        + "const done = arguments[arguments.length - 1];"
        + f"({AUDIO_PEAK})(tile?.querySelector('video')?.srcObject).then(done);",
        tile_name,
    )
    assert peak > 0.01, f"no sound from {tile_name}'s tile in Firefox (peak {peak})"
