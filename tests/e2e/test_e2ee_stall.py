"""The stall watch in Chromium through Janus: a participant whose key envelopes got lost sees the
other's video stall (frames arrive and do not decrypt), asks for the key again with
`key_request`, and then sees the picture."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.async_api import Page, WebSocketRoute

from tests.e2e.conftest import OpenPage
from tests.e2e.test_e2ee_meeting import decrypting, e2ee, join, room, wait_e2ee
from tests.e2e.test_e2ee_mixed import shows_the_picture_of


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
