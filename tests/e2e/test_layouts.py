"""Layouts in Chromium, with aiortc bots for the many participants: speaker view (who talks, or
whom one pins, large), pages of tiles with no video received for those not shown — checked in
the page's state and in what the browser's receivers really get from Janus —, "Audio only" and
"Only the speaker's video", the offer of audio only on a weak connection, people of the same
name told apart, names not cut on a phone; axe-clean in German and English."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from playwright.async_api import Page, ViewportSize, expect

from tests.support.browser import OpenPage, poll
from tests.support.crowd import (
    Member,
    audio_peak,
    crowd,
    feeds_of,
    ids,
    tile_of,
    video_received,
)
from tests.support.meeting_ui import box, more_action, open_more, open_participants, state
from tests.support.pages import WAIT, join, room, video_is_playing, violations
from tests.support.screens import PHONE, screenshots
from tests.support.server import RunningServer
from tests.support.waits import drain, quiet_for

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
LONG_NAME = "Maximiliane Friederike von Hohenstein-Waldburg zu Ebersberg"


async def video_wanted(page: Page, feeds: dict[str, str], want: dict[str, bool]) -> None:
    """The page wants (and has told the server it wants) exactly this video: participant → on."""
    expected = {feeds[who]: on for who, on in want.items()}

    async def read() -> dict[str, tuple[bool, bool]]:
        subs = (await state(page))["subscriptions"]
        return {s["feed"]: (s["videoWanted"], s["videoOn"]) for s in subs if s["feed"] in expected}

    await poll(
        read,
        lambda got: got == {feed: (on, on) for feed, on in expected.items()},
        "the video wanted",
        WAIT / 1000,
    )


async def receiving(page: Page, feeds: dict[str, str], want: dict[str, bool]) -> None:
    """Janus really sends the video of exactly these (participant → on): the browser's
    receivers count new packets for them, and none for the others."""
    await drain(1.5)  # packets already on the way when the video was paused
    before = await video_received(page)
    await quiet_for(3)  # the paused ones must get nothing in this time
    after = await video_received(page)
    grew = {who: after.get(feeds[who], 0) > before.get(feeds[who], 0) for who in want}
    assert grew == want, (before, after)


async def names_fit(page: Page, selector: str) -> list[bool]:
    """For each shown name in ``selector``: whether its whole text fits (not ellipsized)."""
    fits: list[bool] = await page.locator(selector).evaluate_all(
        "(els) => els.filter((e) => e.checkVisibility()).map((e) => e.scrollWidth <= e.clientWidth)"
    )
    return fits


async def test_speaker_view_shows_who_talks_and_whom_one_pins(
    open_page: OpenPage, server: RunningServer
) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    stage, strip = anna.locator("#stage"), anna.locator("#grid")
    async with crowd(server, name, [("Ben", 0), ("Carla", 440)]) as (_, carla):
        await video_is_playing(anna, "Ben")
        await video_is_playing(anna, "Carla")
        await expect(stage).to_be_hidden()  # the grid by default
        toggle = await more_action(anna, "Speaker view")
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        await anna.keyboard.press("Escape")
        assert await anna.evaluate("localStorage.getItem('rathaus.layout')") == "speaker"

        # Carla's tone makes her the one who talks: large on the stage, the others in the strip.
        large = stage.get_by_role("group", name="Carla", exact=True)
        await expect(large).to_be_visible(timeout=WAIT)
        ben_small = strip.get_by_role("group", name="Ben", exact=True)
        await expect(ben_small).to_be_visible()
        await expect(strip.get_by_role("group", name="Anna", exact=True)).to_be_visible()
        assert (await box(large))["width"] > 2.5 * (await box(ben_small))["width"]
        assert await violations(anna) == []

        # Pinned from his tile's menu, Ben is the large one (though Carla talks).
        await ben_small.get_by_role("button", name="More actions for Ben").click()
        await ben_small.get_by_role("button", name="Pin", exact=True).click()
        ben_large = stage.get_by_role("group", name="Ben", exact=True)
        await expect(ben_large).to_be_visible()
        await expect(ben_large.get_by_role("img", name="Pinned")).to_be_visible()
        await expect(ben_large.get_by_role("button", name="More actions for Ben")).to_be_focused()
        await expect(strip.get_by_role("group", name="Carla", exact=True)).to_be_visible()
        await video_is_playing(anna, "Ben")
        await screenshots(anna, "meeting-speaker-view")

        # Unpinned from the participant list: the one who talks again.
        panel = await open_participants(anna)
        line = panel.get_by_role("listitem").filter(has_text="Ben")
        await line.get_by_role("button", name="More actions for Ben").click()
        await line.get_by_role("button", name="Unpin", exact=True).click()
        await expect(large).to_be_visible()
        await expect(strip.get_by_role("group", name="Ben", exact=True)).to_be_visible()
        await anna.keyboard.press("Escape")

        # Back to the grid; pinning (from the list) switches to speaker view.
        await more_action(anna, "Speaker view")
        await anna.keyboard.press("Escape")
        await expect(stage).to_be_hidden()
        await expect(strip.get_by_role("group", name="Carla", exact=True)).to_be_visible()
        panel = await open_participants(anna)
        line = panel.get_by_role("listitem").filter(has_text="Ben")
        await line.get_by_role("button", name="More actions for Ben").click()
        await line.get_by_role("button", name="Pin", exact=True).click()
        await expect(ben_large).to_be_visible()
        await anna.keyboard.press("Escape")
        popup = await open_more(anna)
        speaker_view = popup.get_by_role("button", name="Speaker view")
        await expect(speaker_view).to_have_attribute("aria-pressed", "true")
        await anna.keyboard.press("Escape")

        # A shared screen takes the stage; the pinned one leads the strip; full screen still works.
        await carla.publish((200, 40, 40), 0, kind="screen")
        screen = stage.get_by_role("group", name="Screen of Carla", exact=True)
        await video_is_playing(anna, "Screen of Carla")
        await expect(stage.locator(".tile-camera")).to_have_count(0)
        first = strip.get_by_role("group").first
        await expect(first).to_have_accessible_name("Ben")
        full = screen.get_by_role("button", name="Full screen", exact=True)
        await full.click()
        await expect(full).to_have_attribute("aria-pressed", "true")
        await full.click()
        await expect(full).to_have_attribute("aria-pressed", "false")
        assert await violations(anna) == []


async def test_a_phone_pages_the_grid_and_gets_no_video_for_other_pages(
    open_page: OpenPage, server: RunningServer
) -> None:
    name = room()
    anna = await join(open_page, name, "Stefanie Hoffmann")
    await anna.set_viewport_size(PHONE)
    members: list[Member] = [("Ben", 300), ("Carla", 350), ("Dora", 400), ("Emil", 450)]
    members += [("Fritz", 500)]
    members += [("Gina", None), ("Hans", None), ("Ida", None), (LONG_NAME, None)]
    async with crowd(server, name, members) as bots:
        ben, carla, dora, emil, fritz, *_, long_ = ids(bots)
        await expect(anna.locator(".tile-camera")).to_have_count(10, timeout=WAIT)
        await poll(
            lambda: state(anna),
            lambda s: [x["state"] for x in s["subscriptions"]] == ["connected"] * 5,
            "five connected subscriptions",
            WAIT / 1000,
        )
        feeds = await feeds_of(anna)
        pager = anna.get_by_role("group", name="Video pages")
        await expect(pager).to_contain_text("Page 1 of 3")
        previous = pager.get_by_role("button", name="Previous page")
        following = pager.get_by_role("button", name="Next page")
        await expect(previous).to_have_attribute("aria-disabled", "true")
        self_id = (await state(anna))["participantId"]
        assert (await state(anna))["layout"]["shown"] == [self_id, ben, carla, dora]
        for who in (ben, carla, dora):
            await expect(tile_of(anna, who)).to_be_visible()
        for who in (emil, fritz, long_):
            await expect(tile_of(anna, who)).to_be_hidden()

        # Emil and Fritz are on page 2: no video for them, the server told so, Janus stopped.
        page_one = {ben: True, carla: True, dora: True, emil: False, fritz: False}
        await video_wanted(anna, feeds, page_one)
        await receiving(anna, feeds, page_one)
        assert await audio_peak(anna, emil) > 0.01  # everyone's sound plays on
        # Names fit: one's own ("Stefanie Hoffmann (you)", moderator) as well as the others.
        assert await names_fit(anna, "#grid .tile .name") == [True] * 4
        await expect(tile_of(anna, self_id).locator(".you")).to_be_visible()
        assert await violations(anna) == []

        await following.click()
        await expect(pager).to_contain_text("Page 2 of 3")
        await expect(anna.locator("#status")).to_have_text("Page 2 of 3")
        await expect(following).to_be_focused()
        page_two = {ben: False, carla: False, dora: False, emil: True, fritz: True}
        await video_wanted(anna, feeds, page_two)
        await receiving(anna, feeds, page_two)
        await video_is_playing(anna, "Emil")

        # Page 3: a name too long for its tile is cut, and its tile still has the whole name.
        await following.click()
        await expect(pager).to_contain_text("Page 3 of 3")
        await expect(following).to_have_attribute("aria-disabled", "true")
        await expect(following).to_be_focused()
        await anna.keyboard.press("Enter")  # nothing further
        await expect(pager).to_contain_text("Page 3 of 3")
        await expect(anna.get_by_role("group", name=LONG_NAME, exact=True)).to_be_visible()
        assert await names_fit(anna, "#grid .tile .name") == [True, False]
        await video_wanted(anna, feeds, dict.fromkeys((ben, carla, dora, emil, fritz), False))

        for _ in range(2):
            await previous.click()
        await expect(pager).to_contain_text("Page 1 of 3")
        await anna.set_viewport_size(DESKTOP)  # nine to a page
        await expect(pager).to_contain_text("Page 1 of 2")
        await video_wanted(anna, feeds, dict.fromkeys((ben, carla, dora, emil, fritz), True))
        await screenshots(anna, "meeting-paged-grid")
        bandwidth = (await state(anna))["bandwidth"]
        assert bandwidth["offered"] is False, bandwidth  # loopback is no weak connection


async def test_audio_only_and_only_the_speakers_video(
    open_page: OpenPage, server: RunningServer
) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    async with crowd(server, name, [("Ben", 0), ("Carla", 440)]) as bots:
        ben, carla = ids(bots)
        await video_is_playing(anna, "Ben")
        await video_is_playing(anna, "Carla")
        feeds = await feeds_of(anna)
        camera = anna.get_by_role("toolbar").get_by_role("button", name="Camera", exact=True)
        await expect(camera).to_have_attribute("aria-pressed", "true")

        audio_only = await more_action(anna, "Audio only")
        await expect(audio_only).to_have_attribute("aria-pressed", "true")
        await expect(anna.locator("#status")).to_have_text(
            "Audio only: you receive no video, and your camera is off."
        )
        await expect(camera).to_have_attribute("aria-pressed", "false", timeout=WAIT)
        await expect(anna.locator("#saving-indicator")).to_have_text("Audio only")
        none = {ben: False, carla: False}
        await video_wanted(anna, feeds, none)
        await receiving(anna, feeds, none)
        for who in (ben, carla):  # their initials instead of a frozen picture
            await expect(tile_of(anna, who)).to_have_attribute("data-paused", "true")
            await expect(tile_of(anna, who).locator(".placeholder")).to_be_visible()
        assert await audio_peak(anna, carla) > 0.01  # the sound plays on
        assert await violations(anna) == []

        # Only the speaker's video: Carla's (her tone makes her the one who talks).
        speaker_only = (await open_more(anna)).get_by_role(
            "button", name="Only the speaker's video", exact=True
        )
        await speaker_only.click()
        await expect(speaker_only).to_have_attribute("aria-pressed", "true")
        await expect(audio_only).to_have_attribute("aria-pressed", "false")
        await expect(anna.locator("#saving-indicator")).to_have_text("Only the speaker's video")
        await video_wanted(anna, feeds, {ben: False, carla: True})
        await receiving(anna, feeds, {ben: False, carla: True})
        await video_is_playing(anna, "Carla")

        await speaker_only.click()
        await expect(anna.locator("#status")).to_have_text("You receive all videos again.")
        await expect(anna.locator("#saving-indicator")).to_be_hidden()
        await video_wanted(anna, feeds, {ben: True, carla: True})
        await video_is_playing(anna, "Ben")
        await expect(camera).to_have_attribute("aria-pressed", "false")  # one turns it on again


# The browser's estimates as on a weak line: every candidate pair says 120 kbit/s.
WEAK_LINE = """(() => {
    const original = RTCPeerConnection.prototype.getStats;
    RTCPeerConnection.prototype.getStats = async function (...args) {
        const report = await original.apply(this, args);
        const weak = new Map();
        report.forEach((s, id) => weak.set(id, s.type === 'candidate-pair'
            ? {...s, availableOutgoingBitrate: 120000, availableIncomingBitrate: 120000} : s));
        return weak;
    };
})()"""


async def test_a_weak_connection_is_offered_audio_only(
    open_page: OpenPage, server: RunningServer
) -> None:
    async def weak_line(page: Page) -> None:
        await page.add_init_script(script=WEAK_LINE)

    name = room()
    anna = await join(open_page, name, "Anna", before=weak_line)
    async with crowd(server, name, [("Ben", 0)]):
        await video_is_playing(anna, "Ben")
        notice = anna.locator("#weak-notice")
        await expect(notice).to_be_visible(timeout=30_000)  # after 10 s below 250 kbit/s
        await expect(notice).to_contain_text("Your connection is weak. Switch to audio only?")
        await expect(anna.locator("#status")).to_have_text(  # and said
            "Your connection is weak. Switch to audio only?"
        )
        assert (await state(anna))["bandwidth"]["estimate"] < 250_000
        assert await violations(anna) == []
        await anna.get_by_role("button", name="Switch to audio only", exact=True).click()
        await expect(notice).to_be_hidden()
        await expect(anna.locator("#saving-indicator")).to_have_text("Audio only")
        entry = (await open_more(anna)).get_by_role("button", name="Audio only", exact=True)
        await expect(entry).to_have_attribute("aria-pressed", "true")


async def person_names(page: Page) -> Sequence[str]:
    panel = await open_participants(page)
    return await panel.locator(".person-name").all_inner_texts()


async def test_people_of_the_same_name_are_told_apart(
    open_page: OpenPage, server: RunningServer
) -> None:
    name = room()
    async with crowd(server, name, [("Anna", None)]) as (first,):
        ben = await join(open_page, name, "Ben")
        anna = await join(open_page, name, "Anna")
        second = ben.get_by_role("group", name="Anna (2)", exact=True)
        await expect(second).to_have_count(1, timeout=WAIT)
        await expect(ben.get_by_role("group", name="Anna", exact=True)).to_have_count(1)
        assert await person_names(ben) == ["Ben", "Anna", "Anna (2)"]
        await expect(ben.get_by_role("button", name="More actions for Anna (2)")).to_have_count(2)
        # Anna sees herself as others do; Ben's name stays as it is.
        own = anna.get_by_role("group", name="Anna (2)", exact=True)
        await expect(own).to_contain_text("(you)")
        await expect(anna.get_by_role("group", name="Anna", exact=True)).to_have_count(1)
        await expect(anna.get_by_role("group", name="Ben", exact=True)).to_have_count(1)

        await first.close()  # the first Anna leaves: the other is just Anna again
        await expect(second).to_have_count(0, timeout=WAIT)
        await video_is_playing(ben, "Anna")
        assert await person_names(ben) == ["Ben", "Anna"]


LABELS = {
    "en": ("More", "Speaker view", "Video pages", "Page {} of {}"),
    "de": ("Mehr", "Sprecheransicht", "Seiten der Videos", "Seite {} von {}"),
}


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_speaker_view_and_pages_meet_wcag_21_aa(
    open_page: OpenPage, server: RunningServer, lang: str
) -> None:
    more, speaker_view, pages, page_of = LABELS[lang]
    name = room("a-")
    anna = await join(open_page, name, "Anna", lang=lang)
    await anna.set_viewport_size(PHONE)
    members = [(who, None) for who in ("Ben", "Carla", "Dora", "Emil", "Fritz")]
    async with crowd(server, name, members):
        await expect(anna.locator(".tile-camera")).to_have_count(6, timeout=WAIT)
        pager = anna.get_by_role("group", name=pages)
        await expect(pager).to_contain_text(page_of.format(1, 2))
        assert await violations(anna) == [], "grid"
        await more_action(anna, speaker_view, more)
        await anna.keyboard.press("Escape")
        await expect(anna.locator("#stage .tile-camera")).to_have_count(1)
        await expect(pager).to_contain_text(page_of.format(1, 3))  # two to a strip's page
        assert await violations(anna) == [], "speaker view"
        await pager.get_by_role("button").last.click()
        await expect(pager).to_contain_text(page_of.format(2, 3))
        assert await violations(anna) == [], "speaker view, page 2"
        await anna.set_viewport_size(DESKTOP)
        await expect(pager).to_be_hidden()  # six to a strip
        assert await violations(anna) == [], "speaker view, desktop"
