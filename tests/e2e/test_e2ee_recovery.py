"""How an end-to-end encrypted meeting recovers from lost and bad key envelopes, in Chromium
through Janus: a participant whose envelopes got lost sees the other's video stall (frames arrive
and do not decrypt), asks for the key again with `key_request`, and then sees the picture; a
malformed or tampered envelope is rejected with a clear error in the console, and the meeting goes
on."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any

from playwright.async_api import Browser, ConsoleMessage, Page, WebSocketRoute

from tests.support.browser import OpenPage, page_opener
from tests.support.e2ee_pages import decrypting, e2ee, room, wait_e2ee
from tests.support.pages import join, shows_the_picture_of
from tests.support.server import RunningServer


class LosingEnvelopes:
    """Routes a page's signaling socket and drops every `key_envelope` it would receive until the
    page sends a `key_request` (as if the envelopes had been lost)."""

    def __init__(self) -> None:
        self.dropped = 0
        self.requests: list[dict[str, Any]] = []

    async def install(self, page: Page) -> None:
        await page.route_web_socket(re.compile(r"/ws/rooms/"), self.route)

    def route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "key_request":
                self.requests.append(data)
            server.send(message)

        def from_server(message: str | bytes) -> None:
            if json.loads(message).get("type") == "key_envelope" and not self.requests:
                self.dropped += 1
                return
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)


async def test_a_stalled_track_asks_for_the_key_again(open_e2ee_page: OpenPage) -> None:
    name = room()
    anna = await join(open_e2ee_page, name, "Anna")
    losing = LosingEnvelopes()

    ben = await open_e2ee_page(f"/r/{name}?lang=en", before=losing.install)
    await ben.get_by_role("textbox", name="Your name").fill("Ben")
    await ben.get_by_role("button", name="Join meeting").click()

    # Anna's frames reach Ben and fail for want of a key, until the watch asks for it.
    stalled = await wait_e2ee(ben, "a stall", lambda s: s["stalls"] > 0)
    assert stalled["stats"]["dropped"]["unknown-kid"] > 0, stalled["stats"]
    assert losing.dropped > 0
    anna_id = await anna.evaluate("() => window.rathaus.state().participantId")
    assert [r["to"] for r in losing.requests][:1] == [anna_id]

    await decrypting(ben, 1)
    await shows_the_picture_of(ben, anna, "Anna")
    # Anna got Ben's key all along; Ben sees the same safety code once keyed.
    assert (await e2ee(anna))["safetyCode"] == (await e2ee(ben))["safetyCode"]


class Injecting:
    """Routes a page's signaling socket unchanged, keeps the key envelopes it receives, and can
    hand the page messages as if from the server."""

    def __init__(self) -> None:
        self.route: WebSocketRoute | None = None
        self.envelopes: list[dict[str, Any]] = []

    async def install(self, page: Page) -> None:
        await page.route_web_socket(re.compile(r"/ws/rooms/"), self.connect)

    def connect(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        self.route = ws

        def from_server(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "key_envelope":
                self.envelopes.append(data)
            ws.send(message)

        ws.on_message(server.send)
        server.on_message(from_server)

    def inject(self, message: dict[str, Any]) -> None:
        assert self.route is not None
        self.route.send(json.dumps(message))


def tampered(envelope: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(envelope + "=" * (-len(envelope) % 4)))
    raw[-1] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


async def test_bad_key_envelopes_are_rejected_and_the_meeting_goes_on(
    browser: Browser, e2ee_server: RunningServer
) -> None:
    # This test expects E2EE errors in the console, so it does not fail on them.
    async with page_opener(browser, e2ee_server) as open_:
        name = room()
        anna = await join(open_, name, "Anna")
        anna_id = await anna.evaluate("() => window.rathaus.state().participantId")
        injecting = Injecting()
        ben = await open_(f"/r/{name}?lang=en", before=injecting.install)
        errors: list[str] = []

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(message.text)

        ben.on("console", console)
        await ben.get_by_role("textbox", name="Your name").fill("Ben")
        await ben.get_by_role("button", name="Join meeting").click()
        await decrypting(ben, 1)
        genuine = next(e["envelope"] for e in injecting.envelopes if e["from"] == anna_id)

        bad = {
            "malformed": "not base64url!",
            "version": base64.urlsafe_b64encode(bytes([0x7F]) + bytes(150)).decode().rstrip("="),
            "signature|decrypt": tampered(genuine),
        }
        for envelope in bad.values():
            injecting.inject({"type": "key_envelope", "from": anna_id, "envelope": envelope})
        for codes in bad:
            pattern = re.compile(
                rf"rathaus: e2ee: key envelope from {anna_id}: rejected \(({codes})\)"
            )
            for _ in range(50):
                if any(pattern.search(text) for text in errors):
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError(f"no {codes} rejection in the console: {errors}")
        # Nothing of the key material is in those errors, and Anna's picture keeps coming.
        assert not any(genuine in text for text in errors)
        before = (await e2ee(ben))["stats"]["decrypted"]
        await shows_the_picture_of(ben, anna, "Anna")
        await wait_e2ee(ben, "more frames decrypted", lambda s: s["stats"]["decrypted"] > before)
