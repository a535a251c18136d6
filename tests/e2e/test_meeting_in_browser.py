"""Two people meet in Chromium through Rathaus and a real Janus."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx
from playwright.async_api import expect

from tests.support.browser import OpenPage
from tests.support.meetings import drop_connection
from tests.support.network import MEDIA_IFACE
from tests.support.pages import WAIT, audio_is_heard, join, room, video_is_playing
from tests.support.server import RunningServer
from tests.support.waits import quiet_for


async def test_two_people_see_and_hear_each_other(open_page: OpenPage) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    await video_is_playing(anna, "Ben")
    await video_is_playing(ben, "Anna")
    await audio_is_heard(ben, "Anna")
    await audio_is_heard(anna, "Ben")


async def test_mute_camera_off_screen_share_and_leave_are_seen(open_page: OpenPage) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    anna_on_ben = ben.get_by_role("group", name="Anna", exact=True)
    await video_is_playing(ben, "Anna")

    microphone = anna.get_by_role("button", name="Microphone", exact=True)
    await expect(microphone).to_have_attribute("aria-pressed", "true")
    await microphone.click()
    await expect(microphone).to_have_attribute("aria-pressed", "false")
    await expect(anna_on_ben.get_by_role("img", name="Microphone muted")).to_be_visible()

    camera = anna.get_by_role("button", name="Camera", exact=True)
    await camera.click()
    await expect(camera).to_have_attribute("aria-pressed", "false")
    await expect(anna_on_ben).to_have_attribute("data-video", "false")
    await camera.click()
    await expect(anna_on_ben).to_have_attribute("data-video", "true")

    share = anna.get_by_role("button", name="Share screen", exact=True)
    await share.click()
    await expect(share).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    await video_is_playing(ben, "Screen of Anna")
    screen_box = await ben.get_by_role("group", name="Screen of Anna").bounding_box()
    camera_box = await anna_on_ben.bounding_box()
    assert screen_box and camera_box and screen_box["width"] > 1.5 * camera_box["width"]
    await share.click()
    await expect(ben.get_by_role("group", name="Screen of Anna")).to_have_count(0, timeout=WAIT)

    await anna.get_by_role("button", name="Leave meeting").click()
    await expect(anna.get_by_role("heading", name="You left the meeting")).to_be_visible()
    await expect(anna_on_ben).to_have_count(0, timeout=5_000)


async def test_a_late_joiner_sees_everyone_already_there(open_page: OpenPage) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    carla = await join(open_page, name, "Carla")
    await video_is_playing(carla, "Anna")
    await video_is_playing(carla, "Ben")
    await video_is_playing(anna, "Carla")
    await expect(ben.get_by_role("group", name="Carla", exact=True)).to_have_count(1)


async def test_german_by_default_and_keyboard_only_join(open_page: OpenPage) -> None:
    page = await open_page(f"/r/{room()}", locale="de-DE")
    assert await page.evaluate("document.documentElement.lang") == "de"
    name_box = page.get_by_role("textbox", name="Ihr Name")
    await name_box.focus()
    await page.keyboard.type("Dora")
    join_button = page.get_by_role("button", name="Besprechung beitreten")
    for _ in range(10):  # tab until the join button has the focus
        if await join_button.evaluate("b => b === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Besprechung verlassen")).to_be_visible(
        timeout=WAIT
    )
    unnamed = await page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, textarea, a[href]')]
            .filter((el) => !el.closest('[hidden]'))
            .filter((el) => !(el.getAttribute('aria-label') || el.textContent.trim()
                              || (el.labels && el.labels.length) || el.title))
            .map((el) => el.outerHTML)"""
    )
    assert unnamed == []


async def test_both_pages_come_back_after_janus_dies(
    open_page: OpenPage, server: RunningServer
) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    await video_is_playing(anna, "Ben")
    await video_is_playing(ben, "Anna")

    os.kill(server.janus_pid, signal.SIGKILL)
    for page in (anna, ben):
        await expect(page.get_by_role("status")).to_contain_text(
            "Media service unavailable", timeout=WAIT
        )
    await video_is_playing(anna, "Ben")
    await video_is_playing(ben, "Anna")


async def test_each_subscriber_gets_the_simulcast_layer_that_fits_its_tile(
    open_page: OpenPage,
) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    video = ben.get_by_role("group", name="Anna", exact=True).locator("video")
    await video_is_playing(ben, "Anna")
    await ben.wait_for_function(
        "(v) => v.videoWidth >= 640", arg=await video.element_handle(), timeout=WAIT
    )
    await ben.set_viewport_size({"width": 360, "height": 300})  # small tiles: lowest layer
    await ben.wait_for_function(
        "(v) => v.videoWidth > 0 && v.videoWidth < 640",
        arg=await video.element_handle(),
        timeout=WAIT,
    )
    layers = [s["layer"] for s in (await ben.evaluate("window.rathaus.state()"))["subscriptions"]]
    assert layers and max(layers) < 2
    await video_is_playing(ben, "Anna")
    await video_is_playing(anna, "Ben")  # Anna's large tile keeps the high layer of Ben
    anna_video = anna.get_by_role("group", name="Ben", exact=True).locator("video")
    assert await anna_video.evaluate("v => v.videoWidth") >= 640


async def test_a_dropped_connection_resumes_as_the_same_participant(
    open_page: OpenPage, server: RunningServer
) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    await video_is_playing(ben, "Anna")
    anna_id = (await anna.evaluate("window.rathaus.state()"))["participantId"]
    meeting = server.services.meetings._meetings[name]
    drop_connection(meeting.participants[anna_id])
    await expect(anna.get_by_role("status")).to_contain_text("Reconnected", timeout=WAIT)
    assert (await anna.evaluate("window.rathaus.state()"))["participantId"] == anna_id
    await video_is_playing(ben, "Anna")
    await video_is_playing(anna, "Ben")
    await quiet_for(server.settings.meeting.resume_grace + 0.5)  # Anna does not leave after all
    await expect(ben.get_by_role("group", name="Anna", exact=True)).to_have_count(1)


async def test_a_short_media_network_loss_recovers_with_an_ice_restart(
    open_page: OpenPage,
) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    await video_is_playing(ben, "Anna")
    await video_is_playing(anna, "Ben")
    # Janus gathers on the test network's veth only: taking it down cuts every media path.
    await set_link(MEDIA_IFACE, "down")
    try:
        await anna.wait_for_function("() => window.rathaus.state().iceRestarts > 0", timeout=WAIT)
    finally:
        await set_link(MEDIA_IFACE, "up")
    await video_is_playing(ben, "Anna")
    await video_is_playing(anna, "Ben")
    assert (await anna.evaluate("window.rathaus.state()"))["participantId"]


async def set_link(interface: str, state: str) -> None:
    process = await asyncio.create_subprocess_exec("ip", "link", "set", interface, state)
    assert await process.wait() == 0


async def test_english_when_the_browser_prefers_it(open_page: OpenPage) -> None:
    page = await open_page(f"/r/{room()}", locale="en-GB")
    assert await page.evaluate("document.documentElement.lang") == "en"
    await expect(page.get_by_role("button", name="Join meeting")).to_be_visible()
    forced = await open_page(f"/r/{room()}?lang=de", locale="en-GB")
    await expect(forced.get_by_role("button", name="Besprechung beitreten")).to_be_visible()


async def test_the_page_shows_the_rooms_name(open_page: OpenPage, server: RunningServer) -> None:
    slug = room()
    async with httpx.AsyncClient(base_url=server.http) as http:
        created = await http.post("/api/rooms", json={"name": "Ausschuss <Süd>", "slug": slug})
        assert created.status_code == 201
    page = await open_page(f"/r/{slug}?lang=en")
    await expect(page.get_by_text("Ausschuss <Süd>", exact=False)).to_be_visible()
    assert "Ausschuss <Süd>" in await page.title()


async def test_a_closed_tab_disappears_at_once(open_page: OpenPage) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    await expect(ben.get_by_role("group", name="Anna", exact=True)).to_have_count(1, timeout=WAIT)
    await anna.context.close()
    await expect(ben.get_by_role("group", name="Anna", exact=True)).to_have_count(0, timeout=3_000)
