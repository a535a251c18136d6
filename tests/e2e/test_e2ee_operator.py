"""The curious operator of issue 4: whoever runs Janus (or Rathaus) sees that a meeting happens,
but not its picture and not its keys.

A Chromium participant sends a known picture (tests.support.operator.write_y4m). An aiortc
subscriber that joins the VideoRoom directly with Janus's API secret gets frames but no picture
in an E2EE meeting, and the picture itself in a plain one, by the same procedure. And in a
two-person E2EE meeting, none of the secret key material the pages create crosses Rathaus's
WebSocket, reaches its logs or lands in its database or data dir.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    WebSocket,
    async_playwright,
    expect,
)

from rathaus.media.janus import JanusSupervisor as Janus
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, page_opener, poll
from tests.support.e2ee_pages import decrypting, e2ee, room
from tests.support.operator import QUADRANTS, OperatorView, watch, write_y4m
from tests.support.pages import join
from tests.support.server import RunningServer, running_server, server_settings, shared_janus

WAIT = 20.0  # s


@pytest.fixture(scope="module")
async def camera_browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Browser]:
    """A Chromium of its own whose fake camera shows the known picture."""
    picture = write_y4m(tmp_path_factory.mktemp("camera") / "quadrants.y4m")
    flags = [*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={picture}"]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        yield browser
        await browser.close()


async def publishing_camera(page: Page) -> str:
    """The participant id, once the camera is published (Janus knows the feed)."""
    state = await poll(
        lambda: page.evaluate("() => window.rathaus.state()"),
        lambda s: bool(s["participantId"]) and bool(s["publishing"].get("camera")),
        "the camera published",
        WAIT,
    )
    return str(state["participantId"])


async def operator_view(
    browser: Browser, server: RunningServer, janus: Janus
) -> tuple[OperatorView, dict[str, Any]]:
    """One Chromium participant alone in a meeting on ``server``; the operator watches it at
    ``janus`` (the one Janus both servers use). The same procedure for both kinds of meeting: only
    ``server``'s configuration differs. Returns what the operator got, and the page's E2EE state
    meanwhile."""
    async with page_opener(browser, server, console_errors_with="e2ee") as open_page:
        page = await join(open_page, room(), "Anna")
        participant = await publishing_camera(page)
        view = await watch(janus.url, janus.api_secret, f"{participant}:camera")
        return view, await e2ee(page)


async def test_operator_gets_frames_but_no_picture(
    camera_browser: Browser, server: RunningServer, e2ee_server: RunningServer
) -> None:
    view, state = await operator_view(camera_browser, e2ee_server, server.janus)
    assert state["on"] and state["stats"]["encrypted"] > 0, state
    # Frames did arrive and reach the decoder...
    assert view.packets > 50, view
    assert view.frames + view.decode_errors > 30, view
    # ...but none of them showed the picture (in practice none decodes at all).
    assert not view.saw_picture(), view


async def test_operator_gets_the_picture_of_a_plain_meeting(
    camera_browser: Browser, server: RunningServer
) -> None:
    """The control: the same operator, a meeting without E2EE. It proves the method works."""
    assert not server.settings.meeting.e2ee_required
    view, state = await operator_view(camera_browser, server, server.janus)
    assert not state["on"], state
    assert view.packets > 50, view
    assert view.saw_picture(), (view, QUADRANTS)


# --- no secret key material passes through Rathaus --------------------------------------------

# Wraps the WebCrypto calls that create or take in key material and records, page by page: the raw
# bytes of every imported key and of every getRandomValues result (copied at once: callers
# overwrite them), whether each generated private or secret key is extractable, and what is
# exported. Workers get CryptoKey objects only (transforms.js), never bytes, so the page sees all.
RECORDER = """
(() => {
  const hex = (data) => {
    const view = data instanceof ArrayBuffer ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return Array.from(view, (b) => b.toString(16).padStart(2, '0')).join('');
  };
  const log = {imported: [], random: [], generated: [], exported: []};
  Object.defineProperty(window, '__keyMaterial', {value: log});
  const subtle = SubtleCrypto.prototype;
  const {importKey, generateKey, exportKey} = subtle;
  subtle.importKey = function (format, data, algorithm, ...rest) {
    const name = typeof algorithm === 'string' ? algorithm : algorithm.name;
    log.imported.push({format, name, hex: format === 'jwk' ? JSON.stringify(data) : hex(data)});
    return importKey.call(this, format, data, algorithm, ...rest);
  };
  subtle.generateKey = function (algorithm, ...rest) {
    return generateKey.call(this, algorithm, ...rest).then((key) => {
      const secret = key.privateKey ?? key;
      log.generated.push({name: algorithm.name ?? algorithm, type: secret.type,
        extractable: secret.extractable});
      return key;
    });
  };
  subtle.exportKey = function (format, key) {
    log.exported.push({format, name: key.algorithm.name, type: key.type});
    return exportKey.call(this, format, key);
  };
  const {getRandomValues} = Crypto.prototype;
  Crypto.prototype.getRandomValues = function (array) {
    const result = getRandomValues.call(this, array);
    log.random.push(hex(array));
    return result;
  };
})();
"""
PUBLIC_KEY_ALGORITHMS = {"X25519", "Ed25519"}  # raw imports of these are public keys


class RecordingBrowser:
    """``browser`` as ``page_opener`` uses it, with RECORDER in every context, and all that the
    pages send to or get from the server: every WebSocket frame (both directions) in ``frames``,
    every HTTP request's URL and body in ``requests``."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self.frames: list[bytes] = []
        self.requests: list[bytes] = []

    async def new_context(self, **options: Any) -> BrowserContext:
        context = await self._browser.new_context(**options)
        await context.add_init_script(RECORDER)
        context.on("page", lambda page: page.on("websocket", self._record))
        context.on("request", self._request)
        return context

    def _record(self, ws: WebSocket) -> None:
        for event in ("framesent", "framereceived"):
            ws.on(event, lambda payload: self.frames.append(_bytes(payload)))

    def _request(self, request: Request) -> None:
        self.requests.append(request.url.encode() + b" " + (request.post_data_buffer or b""))


def _bytes(payload: str | bytes) -> bytes:
    return payload.encode() if isinstance(payload, str) else payload


def encodings(secret: bytes) -> set[bytes]:
    """``secret`` as it could appear in text or bytes: raw, hex, decimal list, and base64 and
    base64url with and without padding, also as part of a longer encoded blob (each of the three
    alignments: the characters that depend on ``secret`` alone)."""
    forms = {secret, secret.hex().encode(), secret.hex().upper().encode()}
    forms |= {sep.join(str(b) for b in secret).encode() for sep in (",", ", ")}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms |= {encode(secret), encode(secret).rstrip(b"=")}
        for shift in range(3):
            text = encode(bytes(shift) + secret)
            forms.add(text[(shift * 8 + 5) // 6 : (shift + len(secret)) * 8 // 6])
    return forms


def leaks(secrets: dict[str, bytes], places: dict[str, bytes]) -> list[str]:
    """Which secret is where (in any of its encodings)."""
    return sorted(
        {
            f"{what} in {where}"
            for what, secret in secrets.items()
            for form in encodings(secret)
            for where, haystack in places.items()
            if form in haystack
        }
    )


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


async def test_no_key_material_passes_through_rathaus(
    browser: Browser, server: RunningServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Rathaus only relays sealed envelopes: no private key and no plain sender key reaches it,
    in any encoding, whether on the wire, in its logs or on its disk."""
    caplog.set_level(logging.DEBUG, logger="rathaus")
    caplog.set_level(logging.DEBUG, logger="uvicorn")
    data_dir = tmp_path / "data"
    recorder = RecordingBrowser(browser)
    settings = server_settings(
        data_dir, janus=shared_janus(server), meeting={"e2ee_required": True}
    )
    async with running_server(settings) as e2ee_server:
        opener = page_opener(cast(Browser, recorder), e2ee_server, console_errors_with="e2ee")
        async with opener as open_page:
            name = room()
            pages = {"Anna": await join(open_page, name, "Anna")}
            pages["Ben"] = await join(open_page, name, "Ben")
            for page in pages.values():
                await decrypting(page, 1)
            for page in pages.values():
                await page.get_by_role("button", name="Leave meeting").click()
                heading = page.get_by_role("heading", name="You left the meeting")
                await expect(heading).to_be_visible()
            recorded = {
                who: await page.evaluate("() => window.__keyMaterial")
                for who, page in pages.items()
            }
    # After the server stopped: the database and everything else in its data dir, as on disk.
    stored = files(data_dir)
    assert "rathaus.db" in stored, sorted(stored)

    secrets = secret_material(recorded)
    envelopes = [f for f in recorder.frames if b'"key_envelope"' in f]
    assert len(envelopes) >= 4, "each page sends its key to the other and receives the other's"
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
    ).encode(errors="backslashreplace")
    places = {
        "the WebSocket": b"\n".join(recorder.frames),
        "HTTP requests": b"\n".join(recorder.requests),
        "the server's log": logged,
        "Janus's log": server.janus.log_path.read_bytes(),
        **{f"data dir {path}": data for path, data in stored.items()},
    }
    assert leaks(secrets, places) == []
    # The same search does find what is meant to cross: the device public keys the pages imported.
    public = public_keys(recorded)
    assert len(leaks(public, {"the WebSocket": places["the WebSocket"]})) == len(public) > 0


def public_keys(recorded: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    return {
        f"{who}'s public {i['name']} key {index}": bytes.fromhex(i["hex"])
        for who, log in recorded.items()
        for index, i in enumerate(log["imported"])
        if i["name"] in PUBLIC_KEY_ALGORITHMS
    }


def secret_material(recorded: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    """The secret key material of both pages, after checking the recording is complete enough to
    mean something: each page made a sender key, the other page imported exactly that key (from an
    envelope it opened), and every private key the pages generated stayed non-extractable."""
    secrets: dict[str, bytes] = {}
    own: dict[str, set[bytes]] = {}
    imported: dict[str, set[bytes]] = {}
    for who, log in recorded.items():
        assert {i["format"] for i in log["imported"]} == {"raw"}, log["imported"]
        random = {bytes.fromhex(r) for r in log["random"]}
        imported[who] = {
            bytes.fromhex(i["hex"])
            for i in log["imported"]
            if i["name"] not in PUBLIC_KEY_ALGORITHMS
        }
        # Sender base keys: 32 random bytes imported as an HKDF key (keyring.js, sframe.js).
        own[who] = {key for key in imported[who] if key in random and len(key) == 32}
        assert own[who], f"{who}: no sender key recorded"
        # The rest: received sender keys and the X25519 secrets of envelopes (envelope.js).
        for index, key in enumerate(sorted(imported[who])):
            kind = "own sender key" if key in own[who] else "received or envelope key"
            secrets[f"{who}'s secret {index} ({kind})"] = key
        generated = log["generated"]
        assert {"X25519", "Ed25519"} <= {g["name"] for g in generated}, generated
        assert all(g["type"] in ("private", "secret") for g in generated), generated
        assert not [g for g in generated if g["extractable"]], "an extractable private key"
        assert {e["type"] for e in log["exported"]} == {"public"}, log["exported"]
    anna, ben = recorded
    assert own[anna] & imported[ben], "Ben never imported Anna's sender key"
    assert own[ben] & imported[anna], "Anna never imported Ben's sender key"
    return secrets


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_the_search_finds_a_key_in_any_encoding(shift: int) -> None:
    """The method of the test above: a key inside a longer blob, at each base64 alignment."""
    key = bytes(range(100, 132))
    blob = bytes(range(7, 7 + shift)) + key + b"tail"
    for encoded in (
        blob,
        blob.hex().encode(),
        blob.hex().upper().encode(),
        base64.b64encode(blob),
        base64.urlsafe_b64encode(blob).rstrip(b"="),
        json.dumps(list(blob)).encode(),
    ):
        assert leaks({"key": key}, {"a log": b'{"x": "' + encoded + b'"}'}), encoded
    assert leaks({"key": key}, {"a log": base64.b64encode(blob[:-8])}) == []
