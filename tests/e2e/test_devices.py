"""Devices on the pre-join screen: the microphone level meter, joining with microphone or camera
off (remembered), and the loudspeaker choice where the browser has one."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.support.browser import OpenPage
from tests.support.pages import WAIT, join, room, violations
from tests.support.screens import screenshots


async def state(page: Page) -> dict[str, Any]:
    return dict(await page.evaluate("() => window.rathaus.state()"))


async def level(page: Page) -> float:
    return float(await page.get_by_label("Microphone level").evaluate("m => m.value"))


async def anna_seen_with(page: Page, *, audio: bool, video: bool) -> None:
    """Anna's microphone and camera as the other participant's page knows them."""
    await page.wait_for_function(
        """([audio, video]) => window.rathaus.state().participants
            .some((p) => p.name === 'Anna' && p.audio === audio && p.video === video)""",
        arg=[audio, video],
        timeout=WAIT,
    )


async def test_the_level_meter_shows_the_microphone(open_page: OpenPage) -> None:
    page = await open_page(f"/r/{room('d-')}?lang=en")
    meter = page.get_by_label("Microphone level")
    await expect(meter).to_be_visible()
    # Chromium's fake microphone beeps: the meter rises.
    await page.wait_for_function(
        "() => document.getElementById('mic-level').value > 0.2", timeout=WAIT
    )
    await screenshots(page, "prejoin-devices")
    assert await violations(page) == []
    # Joining with the microphone off: the meter falls silent.
    await page.get_by_label("Join with microphone off").check()
    await page.wait_for_function(
        "() => document.getElementById('mic-level').value === 0", timeout=WAIT
    )


async def test_joining_with_microphone_and_camera_off(open_page: OpenPage) -> None:
    name = room("d-")
    anna = await open_page(f"/r/{name}?lang=en")
    await anna.get_by_label("Join with microphone off").check()
    await anna.get_by_label("Join with camera off").check()
    await expect(anna.locator("#preview-off")).to_have_text("Camera off")
    await expect(anna.locator("#preview-video")).to_be_hidden()
    await anna.get_by_role("textbox", name="Your name").fill("Anna")
    await anna.get_by_role("button", name="Join meeting").click()
    mic = anna.get_by_role("button", name="Microphone", exact=True)
    camera = anna.get_by_role("button", name="Camera", exact=True)
    await expect(mic).to_have_attribute("aria-pressed", "false", timeout=WAIT)
    await expect(camera).to_have_attribute("aria-pressed", "false")
    assert ((await state(anna))["audio"], (await state(anna))["video"]) == (False, False)

    ben = await join(open_page, name, "Ben")
    await anna_seen_with(ben, audio=False, video=False)
    # On again with one click: the microphone was open all along, the camera opens now.
    await mic.click()
    await expect(mic).to_have_attribute("aria-pressed", "true")
    await camera.click()
    await expect(camera).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    await anna_seen_with(ben, audio=True, video=True)

    # The choice is remembered for the next meeting in this browser.
    again = await anna.context.new_page()
    await again.goto(anna.url)
    await expect(again.get_by_label("Join with microphone off")).to_be_checked()
    await expect(again.get_by_label("Join with camera off")).to_be_checked()


async def test_the_speaker_choice_where_there_is_one(open_page: OpenPage) -> None:
    page = await open_page(f"/r/{room('d-')}?lang=en")
    await expect(page.locator("#camera-select option").first).to_be_attached(timeout=WAIT)
    outputs = await page.evaluate(
        """async () => (await navigator.mediaDevices.enumerateDevices())
            .filter((d) => d.kind === 'audiooutput' && d.deviceId && d.deviceId !== 'default')
            .map((d) => d.deviceId)"""
    )
    speaker = page.locator("#prejoin").get_by_label("Speaker", exact=True)
    if not outputs:
        # No choice to make (a machine without sound devices): no empty control either.
        await expect(speaker).to_be_hidden()
        return
    await expect(speaker).to_be_visible()
    await speaker.select_option(outputs[0])
    assert await page.evaluate("() => localStorage.getItem('rathaus.speaker')") == outputs[0]


async def test_switching_devices_in_the_meeting(open_page: OpenPage) -> None:
    page = await join(open_page, room("d-"), "Anna")
    before = (await state(page))["devices"]
    assert before["microphone"] and before["camera"]
    await page.get_by_role("button", name="More", exact=True).click()
    await page.get_by_role("button", name="Devices", exact=True).click()
    dialog = page.get_by_role("dialog", name="Devices")
    await expect(dialog).to_be_visible()
    microphones = dialog.get_by_label("Microphone", exact=True)
    others = [
        o
        for o in await microphones.locator("option").all_text_contents()
        if o not in (before["microphone"], "No microphone")
    ]
    assert others, "Chromium's fake devices offer more than one microphone"
    await microphones.select_option(label=others[0])
    await page.wait_for_function(
        "(label) => window.rathaus.state().devices.microphone === label", arg=others[0]
    )
    assert (await state(page))["audio"] is True  # still on, now from the other microphone
    await expect(dialog.get_by_label("Speaker", exact=True)).to_be_visible()
    assert await violations(page) == []
    await screenshots(page, "meeting-devices")
    await dialog.get_by_label("Camera", exact=True).select_option(label="No camera")
    await expect(page.get_by_role("button", name="Camera", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("button", name="More", exact=True)).to_be_focused()


async def test_keyboard_shortcuts(open_page: OpenPage) -> None:
    page = await join(open_page, room("d-"), "Anna")
    mic = page.get_by_role("button", name="Microphone", exact=True)
    hand = page.get_by_role("button", name="Raise hand", exact=True)
    await page.locator("#meeting-heading").focus()
    await page.keyboard.press("m")
    await expect(mic).to_have_attribute("aria-pressed", "false")
    await page.keyboard.press("M")
    await expect(mic).to_have_attribute("aria-pressed", "true")
    await page.keyboard.press("h")
    await expect(hand).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    await page.keyboard.press("Control+m")  # with a modifier it is the browser's
    await expect(mic).to_have_attribute("aria-pressed", "true")

    await page.keyboard.press("?")
    help_ = page.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(help_).to_be_visible()
    await expect(help_).to_contain_text("Microphone on or off")
    assert await violations(page) == []
    await page.keyboard.press("m")  # not while a dialog is open
    await expect(mic).to_have_attribute("aria-pressed", "true")
    await page.keyboard.press("Escape")
    await expect(help_).to_be_hidden()


COUNT_OSCILLATORS = """() => {
  window.__oscillators = 0;
  const original = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__oscillators += 1;
    return original.call(this);
  };
}"""


async def oscillators(page: Page) -> int:
    return int(await page.evaluate("() => window.__oscillators"))


async def test_sounds_when_people_join_or_leave_if_turned_on(open_page: OpenPage) -> None:
    name = room("d-")

    async def counting(page: Page) -> None:
        await page.add_init_script(script=f"({COUNT_OSCILLATORS})()")

    anna = await join(open_page, name, "Anna", before=counting)
    ben = await join(open_page, name, "Ben")
    await expect(anna.get_by_role("group", name="Ben", exact=True)).to_have_count(1, timeout=WAIT)
    assert await oscillators(anna) == 0  # off unless turned on
    await ben.get_by_role("button", name="Leave meeting").click()
    await expect(anna.get_by_role("group", name="Ben", exact=True)).to_have_count(0, timeout=WAIT)
    assert await oscillators(anna) == 0

    await anna.get_by_role("button", name="More", exact=True).click()
    sounds = anna.get_by_role("button", name="Sounds when people join or leave")
    await sounds.click()
    await expect(sounds).to_have_attribute("aria-pressed", "true")
    carl = await join(open_page, name, "Carl")
    await anna.wait_for_function("() => window.__oscillators === 2", timeout=WAIT)  # two notes
    await carl.get_by_role("button", name="Leave meeting").click()
    await anna.wait_for_function("() => window.__oscillators === 4", timeout=WAIT)
    # remembered in this browser
    assert await anna.evaluate("() => localStorage.getItem('rathaus.sounds')") == "true"
