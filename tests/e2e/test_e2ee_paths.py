"""The remaining paths of end-to-end encryption in Chromium: the lobby, a resumed and a failed
resume, leaving and rejoining on the same page (each through a real Janus), and tampered or
replayed frames in the real encoded-transform worker (js/e2ee/worker.js)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import Page, WebSocket, WebSocketRoute, expect

from tests.support.accounts_pages import OwnedRoom, forget_accounts, owned_room, sign_in
from tests.support.browser import OpenPage, poll
from tests.support.e2ee_pages import decrypting, e2ee, room, same_codes, wait_e2ee
from tests.support.meeting_ui import open_waiting_room
from tests.support.meetings import drop_connection
from tests.support.pages import WAIT, join
from tests.support.server import RunningServer
from tests.support.waits import quiet_for

FRAMES = 20  # decrypted video frames that count as "decrypting" (the fake camera sends 30/s)


# -- helpers ---------------------------------------------------------------------------------------


@dataclass
class Wire:
    """The signaling messages one page received and sent, in order."""

    received: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)


def _message(payload: str | bytes) -> dict[str, Any]:
    return dict(json.loads(payload))


async def watch_wire(page: Page) -> Wire:
    """Records the page's signaling frames from a reload on (the socket opens on page load)."""
    wire = Wire()

    def on_socket(ws: WebSocket) -> None:
        if "/ws/rooms/" in ws.url:
            ws.on("framereceived", lambda payload: wire.received.append(_message(payload)))
            ws.on("framesent", lambda payload: wire.sent.append(_message(payload)))

    page.on("websocket", on_socket)
    await page.reload()
    return wire


def of_type(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == kind]


def prefix(kid: str | None) -> int:
    """The per-participant half of a keyring KID (decimal, as the worker reports it)."""
    assert kid is not None
    return int(kid) >> 32


def video_receivers(stats: dict[str, Any] | None) -> dict[str, int]:
    """Frames decrypted per video receiver transform, by transform id."""
    if not stats:
        return {}
    return {
        tid: t["frames"]
        for tid, t in stats["transforms"].items()
        if t["role"] == "receiver" and t["kind"] == "video"
    }


async def new_receivers_decrypt(page: Page, old: set[str], count: int) -> dict[str, Any]:
    """``count`` video receivers that did not exist before (ids not in ``old``) decrypt frames:
    the worker's counters of the page's earlier connections do not count."""
    return await wait_e2ee(
        page,
        f"{count} new video receiver(s) decrypting",
        lambda s: (
            sum(1 for t, n in video_receivers(s["stats"]).items() if t not in old and n >= FRAMES)
            >= count
        ),
    )


async def keeps_decrypting(page: Page, before: dict[str, Any]) -> None:
    """The same receivers as in ``before`` (stats) go on decrypting video."""
    old = video_receivers(before)
    assert old, before
    await wait_e2ee(
        page,
        "the same receivers decrypting on",
        lambda s: all(video_receivers(s["stats"]).get(t, 0) >= n + FRAMES for t, n in old.items()),
    )


async def holds_keys(page: Page, kids: list[str], what: str) -> dict[str, Any]:
    """The page's worker holds exactly these receiver keys (the 5 s overlap of a rotated key
    allowed for)."""
    return await poll(
        lambda: e2ee(page),
        lambda s: s["stats"] is not None and sorted(s["stats"]["receiverKids"]) == sorted(kids),
        what,
        WAIT / 1000 + 6,
    )


async def participant_id(page: Page) -> str:
    return str((await page.evaluate("() => window.rathaus.state()"))["participantId"])


# -- 1. the lobby ----------------------------------------------------------------------------------


@pytest.fixture
async def lobby_room(e2ee_server: RunningServer) -> AsyncIterator[OwnedRoom]:
    """A room with the lobby on, owned by a new account of the E2EE server."""
    yield await owned_room(e2ee_server, lobby=True)
    await forget_accounts(e2ee_server)


async def knock(open_page: OpenPage, slug: str, name: str) -> tuple[Page, Wire]:
    page = await open_page(f"/r/{slug}?lang=en")
    wire = await watch_wire(page)
    await page.get_by_role("textbox", name="Your name").fill(name)
    await page.get_by_role("button", name="Join meeting").click()
    await expect(page.get_by_role("heading", name="Waiting to be let in")).to_be_visible(
        timeout=WAIT
    )
    return page, wire


async def admit(moderator: Page, name: str, admitted: Page) -> None:
    entry = (await open_waiting_room(moderator)).get_by_role("group", name=name)
    await entry.get_by_role("button", name="Admit", exact=True).click()
    await expect(admitted.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)


async def test_no_keys_reach_the_lobby_and_admitted_guests_decrypt(
    open_e2ee_page: OpenPage, lobby_room: OwnedRoom
) -> None:
    olga = await open_e2ee_page(f"/r/{lobby_room.slug}?lang=en")
    olga_wire = await watch_wire(olga)
    await sign_in(olga, lobby_room.username)
    await olga.get_by_role("button", name="Join meeting").click()
    await expect(olga.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)
    gustav, gustav_wire = await knock(open_e2ee_page, lobby_room.slug, "Gustav")
    paula, paula_wire = await knock(open_e2ee_page, lobby_room.slug, "Paula")

    # Paula is let in while Gustav waits: keys now travel right past him.
    await admit(olga, "Paula", paula)
    for page in (olga, paula):
        await decrypting(page, 1)
    await same_codes([olga, paula])
    knocks = {
        m["participant"]["name"]: m["participant"] for m in of_type(olga_wire.received, "knock")
    }
    gustav_id = knocks["Gustav"]["id"]
    assert knocks["Gustav"]["device"]["e2ee"] is True  # his public keys were known meanwhile
    await quiet_for(1)  # nothing arrives later either

    assert of_type(gustav_wire.received, "key_envelope") == []
    assert of_type(gustav_wire.received, "welcome") == []
    state = await e2ee(gustav)
    assert not state["on"] and state["stats"] is None and state["safetyCode"] is None, state
    for wire, other in ((olga_wire, await participant_id(paula)), (paula_wire, None)):
        recipients = [m["to"] for m in of_type(wire.sent, "key_envelope")]
        assert recipients, "no keys were sent at all: the check below would prove nothing"
        assert gustav_id not in recipients, recipients
        if other:
            assert other in recipients
        refused = [e for e in of_type(wire.received, "error") if e.get("ref") == "key_envelope"]
        assert refused == [], refused

    await admit(olga, "Gustav", gustav)
    assert await participant_id(gustav) == gustav_id
    pages = [olga, paula, gustav]
    for page in pages:
        await decrypting(page, 2)
    await same_codes(pages)
    # Gustav's wire: nothing of the keys before his welcome, both others' keys after it.
    types = [m["type"] for m in gustav_wire.received]
    welcome = types.index("welcome")
    assert "key_envelope" not in types[:welcome], types
    senders = {m["from"] for m in of_type(gustav_wire.received[welcome:], "key_envelope")}
    assert senders == {await participant_id(olga), await participant_id(paula)}, senders
    for wire in (olga_wire, paula_wire):
        assert gustav_id in [m["to"] for m in of_type(wire.sent, "key_envelope")]


# -- 2. resume -------------------------------------------------------------------------------------


@dataclass
class Gate:
    """Lets a page's new signaling sockets through to the server, or closes them at once."""

    open: bool = True

    async def __call__(self, ws: WebSocketRoute) -> None:
        if self.open:
            ws.connect_to_server()
        else:
            await ws.close(code=4000, reason="test: offline")


async def anna_and_ben(open_page: OpenPage, name: str) -> tuple[Page, Page, str]:
    """Two pages that decrypt each other, and the safety code they share."""
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    for page in (anna, ben):
        await decrypting(page, 1)
    return anna, ben, await same_codes([anna, ben])


async def test_resumed_and_failed_resume(
    open_e2ee_page: OpenPage, e2ee_server: RunningServer
) -> None:
    name = room()
    anna, ben, code = await anna_and_ben(open_e2ee_page, name)
    anna_id = await participant_id(anna)
    meeting = e2ee_server.services.meetings._meetings[name]

    # A brief drop: the same participant, keyring and keys; both go on decrypting.
    before = {"anna": (await e2ee(anna))["stats"], "ben": (await e2ee(ben))["stats"]}
    drop_connection(meeting.participants[anna_id])
    await expect(anna.locator("#status")).to_have_text("Reconnected", timeout=WAIT)
    assert await participant_id(anna) == anna_id
    await keeps_decrypting(anna, before["anna"])
    await keeps_decrypting(ben, before["ben"])
    for page, old in ((anna, before["anna"]), (ben, before["ben"])):
        now = (await e2ee(page))["stats"]
        assert now["senderKid"] == old["senderKid"], (old, now)
        assert now["receiverKids"] == old["receiverKids"], (old, now)
    assert await same_codes([anna, ben]) == code

    # Away for longer than meeting.resume_grace: Anna's old participant leaves, Ben forgets her
    # keys at once and rotates away from his; she comes back as someone new, with a new keyring.
    old = {"anna": (await e2ee(anna))["stats"], "ben": (await e2ee(ben))["stats"]}
    assert old["ben"]["receiverKids"] == [old["anna"]["senderKid"]], old
    gate = Gate(open=False)
    await anna.route_web_socket(re.compile(r"/ws/rooms/"), gate)
    drop_connection(meeting.participants[anna_id])
    await wait_e2ee(
        ben,
        "Anna's keys gone and a new own key",
        lambda s: (
            s["stats"]["receiverKids"] == [] and s["stats"]["senderKid"] != old["ben"]["senderKid"]
        ),
    )
    await expect(ben.get_by_role("group", name="Anna", exact=True)).to_have_count(0)
    gate.open = True
    await expect(anna.locator("#status")).to_have_text("Reconnected", timeout=WAIT)
    assert await participant_id(anna) not in (anna_id, "None")
    for page, me in ((anna, "anna"), (ben, "ben")):
        await new_receivers_decrypt(page, set(video_receivers(old[me])), 1)
    anna_now = (await e2ee(anna))["stats"]
    ben_now = (await e2ee(ben))["stats"]
    assert prefix(anna_now["senderKid"]) != prefix(old["anna"]["senderKid"]), (old, anna_now)
    assert prefix(ben_now["senderKid"]) == prefix(old["ben"]["senderKid"])  # Ben stays Ben
    # Each worker holds the other's current key only: nothing of the earlier participant.
    await holds_keys(ben, [anna_now["senderKid"]], "Ben to hold Anna's new key only")
    await holds_keys(anna, [ben_now["senderKid"]], "Anna to hold Ben's current key only")
    assert await same_codes([anna, ben]) == code  # the same two devices


# -- 3. leave and rejoin ---------------------------------------------------------------------------


async def test_leave_and_rejoin_on_the_same_page(open_e2ee_page: OpenPage) -> None:
    name = room()
    anna, ben, code = await anna_and_ben(open_e2ee_page, name)
    old = {"anna": (await e2ee(anna))["stats"], "ben": (await e2ee(ben))["stats"]}
    assert old["ben"]["receiverKids"] == [old["anna"]["senderKid"]], old

    await ben.get_by_role("button", name="Leave meeting").click()
    await expect(ben.get_by_role("heading", name="You left the meeting")).to_be_visible()
    left = await e2ee(ben)
    assert not left["on"] and left["stats"] is None and left["safetyCode"] is None, left
    # Anna forgets Ben's key at once, and rotates away from the key Ben had.
    rotated = await wait_e2ee(
        anna,
        "Ben's key gone and a new own key",
        lambda s: (
            s["stats"]["receiverKids"] == []
            and s["stats"]["senderKid"] not in (None, old["anna"]["senderKid"])
        ),
    )
    anna_kid = rotated["stats"]["senderKid"]
    assert prefix(anna_kid) == prefix(old["anna"]["senderKid"])

    await ben.get_by_role("button", name="Rejoin").click()
    await expect(ben.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)
    for page, me in ((anna, "anna"), (ben, "ben")):
        await new_receivers_decrypt(page, set(video_receivers(old[me])), 1)
    ben_kid = (await e2ee(ben))["stats"]["senderKid"]
    assert prefix(ben_kid) != prefix(old["ben"]["senderKid"]), "no fresh keyring after rejoining"
    # Ben's worker (the same as before leaving) holds Anna's new key only, not the one he had.
    await holds_keys(ben, [anna_kid], "Ben to hold Anna's rotated key only")
    await holds_keys(anna, [ben_kid], "Anna to hold Ben's new key only")
    assert (await e2ee(anna))["stats"]["senderKid"] == anna_kid
    assert await same_codes([anna, ben]) == code


# -- 4. tampered and replayed frames ---------------------------------------------------------------

# Installs `window.lab` in a page of the server: two real workers of js/e2ee/worker.js, a sender and
# a receiver, each with an audio and a video pipe through the legacy `streams` message. The frames
# are plain objects `{data, type}` on streams made here (structured-cloned into and out of the
# workers); their first bytes are real VP8/Opus headers, the rest random. `lab.deliver` hands the
# receiver one frame and reports whether it came out (equal to the plaintext?) or why it dropped.
LAB = """async () => {
  const sframe = await import('/static/js/e2ee/sframe.js');
  const SUITE = sframe.AES_256_GCM_SHA512_128;
  const KID = (0xa1b2c3d4n << 32n) | 7n;
  const key = await sframe.importBaseKey(crypto.getRandomValues(new Uint8Array(32)));
  const HEAD = {
    key: [0x50, 0x2e, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00],  // VP8 keyframe, 320x240
    delta: [0x31, 0x0b, 0x00],  // VP8 delta frame tag
    audio: [0x78],  // Opus TOC
  };
  const SIZE = {key: 1200, delta: 300, audio: 80};
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function endpoint(role) {
    const worker = new Worker('/static/js/e2ee/worker.js', {type: 'module', name: role});
    const pending = new Map();
    let next = 1;
    worker.onmessage = ({data}) => {
      const p = pending.get(data.id);
      if (!p) return;
      pending.delete(data.id);
      if (data.type === 'stats' || data.ok) p.resolve(data); else p.reject(new Error(data.error));
    };
    const request = (message) => new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, {resolve, reject});
      worker.postMessage({...message, id});
    });
    const pipes = {};
    for (const kind of ['audio', 'video']) {
      let controller;
      const readable = new ReadableStream({start(c) { controller = c; }});
      const out = [];
      const writable = new WritableStream({write(frame) { out.push(frame); }});
      const id = `${role}-${kind}`;
      worker.postMessage({type: 'streams', options: {role, kind, id}, readable, writable},
                         [readable, writable]);
      pipes[kind] = {id, out, push: (frame) => controller.enqueue(frame)};
    }
    return {request, pipes};
  }

  // One frame through one pipe: what came out of the pipe (after a moment for stragglers: a frame
  // counted as dropped must not come out either), and why the worker dropped it, if it did.
  async function through(end, kind, frame) {
    const pipe = end.pipes[kind];
    const before = await end.request({type: 'stats'});
    const was = before.transforms[pipe.id];
    const outs = pipe.out.length;
    pipe.push({data: frame.data.slice(0), type: frame.type});
    for (const deadline = performance.now() + 10000; performance.now() < deadline; await sleep(5)) {
      const now = await end.request({type: 'stats'});
      const passed = now.transforms[pipe.id].frames > was.frames;
      const reasons = Object.keys(now.dropped).filter((r) => now.dropped[r] > before.dropped[r]);
      if (!passed && !reasons.length) continue;
      while (passed && pipe.out.length === outs) await sleep(5);
      await sleep(50);
      return {out: pipe.out.slice(outs), reason: reasons.join('+') || null};
    }
    throw new Error('the worker did not handle the frame');
  }

  function plaintext(kind, type) {
    const form = kind === 'audio' ? 'audio' : type;
    const data = crypto.getRandomValues(new Uint8Array(SIZE[form]));
    data.set(HEAD[form]);
    return {data: data.buffer, type};
  }

  const bytes = (buffer) => new Uint8Array(buffer);
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const sender = endpoint('sender');
  const receiver = endpoint('receiver');
  const plain = {audio: [], video: []};
  const sealed = {audio: [], video: []};

  // Byte positions in a sealed frame: [clear prefix | SFrame header | ciphertext | tag].
  function layout(kind, i) {
    const frame = bytes(sealed[kind][i].data);
    const clear = kind === 'audio' ? 1 : sealed[kind][i].type === 'key' ? 10 : 3;
    const header = sframe.decodeHeader(frame, clear);
    return {frame, clear, header};
  }

  const MUTATE = {
    genuine: (f) => f,
    prefix: (f, {clear}) => { f[clear - 1] ^= 0x01; return f; },
    kid: (f, {clear}) => { f[clear + 8] ^= 0x01; return f; },  // last byte of the 8-byte KID
    ciphertext: (f, {clear, header}) => { f[clear + header.length + 1] ^= 0x80; return f; },
    tag: (f) => { f[f.length - 1] ^= 0x01; return f; },
    shortened: (f) => f.slice(0, f.length - 4),  // cut into the tag
    truncated: (f, {clear}) => f.slice(0, clear + 4),  // cut inside the SFrame header
    empty: () => new Uint8Array(0),
  };

  window.lab = {
    KID: KID.toString(),
    async sendWithoutKey() {
      const {out, reason} = await through(sender, 'video', plaintext('video', 'key'));
      return {out: out.length, reason};
    },
    async giveKeys() {
      await sender.request({type: 'sender-key', suite: SUITE, kid: KID, key});
      await receiver.request({type: 'receiver-key', suite: SUITE, kid: KID, key});
    },
    removeReceiverKey: () => receiver.request({type: 'remove-key', kid: KID}),
    // Encrypts frames of `types` ('key' | 'delta', audio: 'delta'); describes what went out.
    async seal(kind, types) {
      const result = [];
      for (const type of types) {
        const frame = plaintext(kind, type);
        const {out: [out], reason} = await through(sender, kind, frame);
        if (!out || reason) throw new Error(`the sender dropped a frame: ${reason}`);
        plain[kind].push(frame);
        sealed[kind].push(out);
        const {frame: data, clear, header} = layout(kind, sealed[kind].length - 1);
        const body = bytes(frame.data).subarray(clear);
        const cipher = data.subarray(clear + header.length, data.length - 16);
        result.push({
          type: out.type,
          prefixInClear: equal(data.subarray(0, clear), bytes(frame.data).subarray(0, clear)),
          kid: header.kid.toString(),
          ctr: Number(header.ctr),
          overhead: data.length - bytes(frame.data).length,
          bodyHidden: cipher.length === body.length && !equal(cipher, body),
        });
      }
      return result;
    },
    // Delivers sealed frame `i` of `kind`, changed as `how` says, to the receiver's `into` pipe.
    async deliver(kind, i, how, into = kind) {
      const frame = MUTATE[how](bytes(sealed[kind][i].data).slice(), layout(kind, i));
      const type = sealed[kind][i].type;
      const {out, reason} = await through(receiver, into, {data: frame.buffer, type});
      return {
        out: out.length,
        reason,
        plaintext: out.length === 1 && out[0].type === plain[kind][i].type
          && equal(bytes(out[0].data), bytes(plain[kind][i].data)),
      };
    },
    stats: (role) => (role === 'sender' ? sender : receiver).request({type: 'stats'}),
  };
}"""


@dataclass(frozen=True)
class Case:
    """Sealed frame ``frame`` of ``kind``, changed as ``how``, into the receiver's ``into`` pipe
    (of its own kind by default): passed on as the plaintext (``reason`` None), or dropped."""

    kind: str
    frame: int
    how: str
    reason: str | None
    into: str | None = None


CASES = [
    Case("video", 0, "genuine", None),  # the keyframe
    Case("video", 1, "genuine", None),
    # every change is seen, and a forgery does not use up the genuine frame's counter
    Case("video", 0, "prefix", "replay"),  # an old counter: refused before decrypting
    Case("video", 2, "prefix", "auth"),
    Case("video", 2, "ciphertext", "auth"),
    Case("video", 2, "tag", "auth"),
    Case("video", 2, "shortened", "auth"),
    Case("video", 2, "truncated", "malformed"),
    Case("video", 2, "kid", "unknown-kid"),
    Case("video", 2, "empty", "empty"),
    Case("video", 2, "genuine", None),
    # replays: at once, later, and of the keyframe
    Case("video", 2, "genuine", "replay"),
    Case("video", 4, "genuine", None),
    Case("video", 3, "genuine", None),  # reordered within the window: fine, once
    Case("video", 3, "genuine", "replay"),
    Case("video", 0, "genuine", "replay"),
    Case("video", 5, "tag", "auth"),
    Case("video", 5, "genuine", None),
    # audio: its own pipeline and replay window; the TOC byte is authenticated too
    Case("audio", 0, "genuine", None),
    Case("audio", 1, "prefix", "auth"),
    Case("audio", 1, "ciphertext", "auth"),
    Case("audio", 1, "genuine", None),
    Case("audio", 1, "genuine", "replay"),
    # a video frame replayed into the audio receiver (its counter never seen there): refused
    Case("video", 6, "genuine", "malformed", into="audio"),
]


def outcome(reason: str | None) -> dict[str, Any]:
    """Passed on as the plaintext, or dropped for ``reason``: nothing came out."""
    return {"out": 1 if reason is None else 0, "reason": reason, "plaintext": reason is None}


async def deliver(page: Page, kind: str, index: int, how: str, into: str | None = None) -> Any:
    return await page.evaluate(
        "([kind, i, how, into]) => lab.deliver(kind, i, how, into)",
        [kind, index, how, into or kind],
    )


async def test_tampered_and_replayed_frames_are_dropped(open_page: OpenPage) -> None:
    page = await open_page("/")
    await page.evaluate(LAB)

    # Without a key nothing leaves the sender, not even unencrypted.
    assert await page.evaluate("() => lab.sendWithoutKey()") == {"out": 0, "reason": "no-key"}
    await page.evaluate("() => lab.giveKeys()")
    video = await page.evaluate("() => lab.seal('video', ['key', ...Array(9).fill('delta')])")
    audio = await page.evaluate("() => lab.seal('audio', Array(4).fill('delta'))")
    kid = await page.evaluate("() => lab.KID")
    for frame in video + audio:
        # prefix in clear; header: config byte, 8-byte KID, CTR (in the config byte below 8); tag
        assert frame["prefixInClear"] and frame["bodyHidden"] and frame["kid"] == kid, frame
        assert frame["overhead"] == 9 + (0 if frame["ctr"] < 8 else 1) + 16, frame
    assert [f["type"] for f in video] == ["key"] + ["delta"] * 9
    assert [f["ctr"] for f in video + audio] == list(range(14))  # one counter per sender

    for case in CASES:
        result = await deliver(page, case.kind, case.frame, case.how, case.into)
        assert result == outcome(case.reason), (case, result)
    stats = await page.evaluate("() => lab.stats('receiver')")
    counts = Counter(case.reason for case in CASES if case.reason)
    assert {r: n for r, n in stats["dropped"].items() if n} == dict(counts), stats["dropped"]
    assert stats["decrypted"] == sum(1 for case in CASES if case.reason is None)

    # A removed key opens nothing more, not even the next genuine frame.
    await page.evaluate("() => lab.removeReceiverKey()")
    assert await deliver(page, "video", 7, "genuine") == outcome("unknown-kid")
    assert (await page.evaluate("() => lab.stats('receiver')"))["receiverKids"] == []
