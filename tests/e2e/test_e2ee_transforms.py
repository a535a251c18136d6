"""E2EE's encoded-transform layer (js/e2ee/transforms.js, worker.js) in Chromium, without Janus.

Two peer connections in one page send the fake camera and microphone to each other; the sender side
encrypts in one worker, the receiver side decrypts in another. The harness module
(tests/e2e/pages/e2ee_transforms.js) is served on the Rathaus origin by Playwright, so the page's
CSP (script-src 'self') applies to it as to the app's own modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Route

from tests.support.browser import OpenPage, poll
from tests.support.server import RunningServer

HARNESS = Path(__file__).resolve().parent / "pages" / "e2ee_transforms.js"
HARNESS_PATH = "/__test__/e2ee_transforms.js"
WAIT = 10.0


async def open_harness(open_page: OpenPage, server: RunningServer) -> Page:
    page = await open_page("/")

    async def serve(route: Route) -> None:
        await route.fulfill(
            status=200,
            content_type="text/javascript",
            body=HARNESS.read_text(encoding="utf-8"),
        )

    await page.route(server.http + HARNESS_PATH, serve)
    await page.evaluate("async (url) => { window.harness = await import(url); }", HARNESS_PATH)
    return page


async def snapshot(page: Page) -> dict[str, Any]:
    return dict(await page.evaluate("() => harness.snapshot()"))


async def wait_for(page: Page, what: str, check: Any) -> dict[str, Any]:
    return await poll(lambda: snapshot(page), check, what, WAIT)


def drops(stats: dict[str, Any], *except_: str) -> dict[str, int]:
    return {reason: n for reason, n in stats["dropped"].items() if n and reason not in except_}


def transform_frames(stats: dict[str, Any], kind: str) -> int:
    return sum(t["frames"] for t in stats["transforms"].values() if t["kind"] == kind)


@pytest.mark.parametrize("api", ["script-transform", "encoded-streams"])
async def test_encrypted_media_plays_with_the_right_key_only(
    open_page: OpenPage, server: RunningServer, api: str
) -> None:
    page = await open_harness(open_page, server)
    apis = await page.evaluate("() => harness.apis()")
    # The standard API is what Rathaus uses wherever it exists.
    assert apis["scriptTransform"] and apis["default"] == "script-transform", apis
    if api == "encoded-streams" and not apis["encodedStreams"]:
        pytest.skip("this Chromium no longer has createEncodedStreams")
    assert (await page.evaluate("(api) => harness.start(api)", api)) == {"api": api}

    try:
        # No keys yet: the sender drops every frame (nothing goes out unencrypted), nothing plays.
        await wait_for(
            page,
            "the sender to drop frames without a key",
            lambda s: s["send"]["dropped"]["no-key"] >= 10,
        )
        snap = await snapshot(page)
        assert snap["send"]["encrypted"] == 0 and snap["recv"]["decrypted"] == 0, snap
        assert snap["framesDecoded"] == 0 and snap["video"]["width"] == 0, snap

        # The same base key on both sides: video plays, audio and video frames are decrypted.
        await page.evaluate("() => harness.giveReceiverKey('right')")
        await page.evaluate("() => harness.giveSenderKey()")
        first = await wait_for(
            page,
            "the video to play",
            lambda s: (
                s["video"]["width"] > 0
                and s["framesDecoded"] >= 15
                and s["video"]["currentTime"] > 0
            ),
        )
        playing = await wait_for(
            page,
            "the video to keep playing",
            lambda s: (
                s["framesDecoded"] >= first["framesDecoded"] + 15
                and s["video"]["currentTime"] > first["video"]["currentTime"]
            ),
        )
        assert playing["codec"] == "video/VP8", playing
        assert playing["video"]["width"] == 320, playing
        assert playing["send"]["encrypted"] > 0 and playing["recv"]["decrypted"] > 0, playing
        assert playing["recv"]["decrypted"] > first["recv"]["decrypted"], playing
        assert transform_frames(playing["recv"], "video") > 0, playing
        assert transform_frames(playing["recv"], "audio") > 0, playing
        # (Chromium's empty audio frames aside: nothing a sender encrypted, dropped as `empty`.)
        assert not drops(playing["recv"], "empty"), repr(playing["recv"])
        assert not drops(playing["send"], "no-key"), repr(playing["send"])

        # A wrong key for the same KID: every frame fails authentication, is dropped; video stalls.
        await page.evaluate("() => harness.giveReceiverKey('wrong')")
        before = await snapshot(page)
        stalled = await wait_for(
            page,
            "frames to be dropped with the wrong key",
            lambda s: s["recv"]["dropped"]["auth"] >= before["recv"]["dropped"]["auth"] + 40,
        )
        # at most the frames already inside the pipeline when the key changed
        assert stalled["recv"]["decrypted"] - before["recv"]["decrypted"] <= 2, (before, stalled)
        assert stalled["framesDecoded"] - before["framesDecoded"] <= 2, (before, stalled)
        assert stalled["recv"]["dropped"]["replay"] == 0, stalled

        # The right key again: decryption and decoding resume.
        await page.evaluate("() => harness.giveReceiverKey('right')")
        resumed = await snapshot(page)
        await wait_for(
            page,
            "the video to recover",
            lambda s: (
                s["framesDecoded"] >= resumed["framesDecoded"] + 15
                and transform_frames(s["recv"], "video")
                > transform_frames(resumed["recv"], "video") + 15
                and transform_frames(s["recv"], "audio")
                > transform_frames(resumed["recv"], "audio") + 15
            ),
        )
    finally:
        await page.evaluate("() => harness.stop()")
