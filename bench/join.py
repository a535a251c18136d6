"""Join latency: from the click on "Join" to the first decoded remote video frame, in headless
Chromium, for Rathaus and for Janus's own VideoRoom demo against the same Janus in the same run.

Run in the test network namespace (``make bench`` does)::

    ./scripts/in-test-network.sh .venv/bin/python bench/join.py [--runs 7] [--warmup 1]

Setup: Rathaus with its managed Janus, as a process of its own (``rathaus serve``, as in
bench/load.py; ``--in-process`` runs it in this event loop through tests/support/server.py
instead, where it shares the loop with Playwright's client). Two aiortc publishers (320x240 colour
+ tone, 30 fps) run in a child process: one in a Rathaus room through Rathaus signaling, an
identical one straight into a Janus VideoRoom room for the demo page. Janus's demos
(/usr/share/janus/demos) are served from a loopback port with a settings.js pointing at the
managed Janus (URL and API secret from its generated configuration), and videoroomtest.js with
janus.js's console logging off. Every run uses a fresh browser context; Rathaus and demo runs
alternate.

The clock runs inside the page (performance.now()): it starts in a capturing click listener on the
join button and stops at the first remote video frame (requestVideoFrameCallback, or
videoWidth > 0 && currentTime > 0 polled every few ms, whichever comes first). WebSocket messages
and peer connection states are stamped on the same clock, so the output shows where the time goes.
Any request to a non-loopback address is blocked and counted.

Prints one JSON object; the figures are milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import mimetypes
import re
import secrets
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from _common import require_test_network, summary
from aiortc import RTCPeerConnection, RTCSessionDescription
from load import rathaus_process
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright
from playwright.async_api import Error as PlaywrightError
from tests.support import server as support_server
from tests.support.bot import (
    NO_ICE_SERVERS,
    Bot,
    ColourTrack,
    ToneTrack,
    keep_media_on_loopback,
)
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS

from rathaus.media.janus import videoroom
from rathaus.media.janus.client import JanusClient, JanusSession
from rathaus.media.janus.core import WebrtcUp

DEMOS = Path("/usr/share/janus/demos")
DEMO_ROOM = 1234
PUBLISHER_RGB, PUBLISHER_HZ = (220, 30, 30), 440.0
TIMEOUT_MS = 30_000

# Stamps (performance.now()) in the page: the click, the first remote frame, and the first of
# each kind of WebSocket message and peer-connection event after the click.
PROBE = r"""
(config) => {
  const b = window.__bench = { click: null, frame: null, how: null, marks: {} };
  const now = () => performance.now();
  const mark = (name) => {
    if (b.click !== null && !(name in b.marks)) b.marks[name] = now() - b.click;
  };
  document.addEventListener('click', (e) => {
    const target = e.target instanceof Element ? e.target : null;
    if (b.click === null && target && target.closest(config.click)) b.click = now();
  }, true);
  const hit = (how, t) => {
    if (b.frame === null && b.click !== null) { b.frame = t; b.how = how; }
  };
  const watched = new WeakSet();
  const poll = () => {
    for (const v of document.querySelectorAll(config.video)) {
      if (!watched.has(v) && typeof v.requestVideoFrameCallback === 'function') {
        watched.add(v);
        v.requestVideoFrameCallback((t) => hit('rvfc', t));
      }
      if (v.videoWidth > 0 && v.currentTime > 0) hit('poll', now());
    }
    if (b.frame === null) setTimeout(poll, 2);
  };
  poll();

  const label = (m) => {
    if (!m || typeof m !== 'object') return '?';
    if (m.type) return m.type;                         // Rathaus signaling
    const parts = [m.janus];                           // Janus API
    const req = m.body && m.body.request;
    const ev = m.plugindata && m.plugindata.data && m.plugindata.data.videoroom;
    if (req) parts.push(req + (m.body.ptype ? '/' + m.body.ptype : ''));
    if (ev) parts.push(ev);
    if (m.jsep) parts.push(m.jsep.type);
    return parts.join(':');
  };
  const NativeWS = window.WebSocket;
  window.WebSocket = class extends NativeWS {
    constructor(...args) {
      super(...args);
      mark('ws:create');
      this.addEventListener('open', () => mark('ws:open'));
      this.addEventListener('message', (e) => {
        try { mark('recv:' + label(JSON.parse(e.data))); } catch (err) { /* not JSON */ }
      });
    }
    send(data) {
      try { mark('send:' + label(JSON.parse(data))); } catch (err) { /* not JSON */ }
      return super.send(data);
    }
  };
  const NativePC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePC {
    constructor(...args) {
      super(...args);
      const n = (window.__benchPcs = (window.__benchPcs || 0) + 1);
      mark('pc' + n + ':create');
      const pc = 'pc' + n + ':';
      this.addEventListener('iceconnectionstatechange',
        () => mark(pc + 'ice-' + this.iceConnectionState));
      this.addEventListener('connectionstatechange', () => mark(pc + this.connectionState));
      this.addEventListener('track', (e) => mark('pc' + n + ':track-' + e.track.kind));
    }
  };
}
"""


# --- a tiny static server for Janus's demos ------------------------------------------------------


def _settings_js(janus_url: str, api_secret: str) -> bytes:
    return (
        f"var server = {json.dumps(janus_url)};\n"
        "var iceServers = [];\n"
        "var token = null;\n"
        f"var apisecret = {json.dumps(api_secret)};\n"
    ).encode()


def _quiet_demo() -> bytes:
    """videoroomtest.js with janus.js's logging off (``debug: "all"`` → ``false``).

    Under Playwright every console call is serialized over the DevTools protocol; the demo logs
    each message and SDP, which would slow it down for the bench only. Rathaus's client logs a
    few lines per join; it is left as it is.
    """
    text = (DEMOS / "videoroomtest.js").read_bytes()
    quiet = text.replace(b'Janus.init({debug: "all",', b"Janus.init({debug: false,")
    if quiet == text:
        raise RuntimeError("videoroomtest.js changed: cannot turn its logging off")
    return quiet


@contextlib.asynccontextmanager
async def demo_server(root: Path, overrides: dict[str, bytes]) -> AsyncIterator[int]:
    """Serve ``root`` (GET/HEAD, HTTP/1.0) on a free loopback port; yield the port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readline()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            method, target, _ = request.decode("latin-1").split(" ", 2)
            path = unquote(urlsplit(target).path).lstrip("/") or "index.html"
            file = root / path  # Debian's demos symlink into /usr/share/javascript
            body: bytes | None = overrides.get(path)
            if body is None and ".." not in Path(path).parts and file.is_file():
                body = file.read_bytes()
            if body is None:
                status, body, ctype = "404 Not Found", b"not found", "text/plain"
            else:
                status = "200 OK"
                ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
            head = (
                f"HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + (body if method != "HEAD" else b""))
            await writer.drain()
        except (ValueError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


# --- publishers ----------------------------------------------------------------------------------


async def rathaus_publisher(ws_base: str, room: str) -> Bot:
    """An aiortc participant publishing through Rathaus; returns once its feed is up."""
    bot = Bot(ws_base, room, "Publisher")
    watcher = Bot(ws_base, room, "Watcher")
    await bot.join()
    await watcher.join()
    await bot.publish(PUBLISHER_RGB, PUBLISHER_HZ)
    await watcher.expect("feed_added", timeout=15)
    await watcher.close()
    return bot


@contextlib.asynccontextmanager
async def janus_publisher(session: JanusSession, room: int) -> AsyncIterator[None]:
    """The same aiortc publisher, straight into a Janus VideoRoom room (for the demo page)."""
    admin = await session.attach(videoroom.PLUGIN)
    await videoroom.create_room(admin, room, description="bench demo", exists_ok=True)
    up = asyncio.Event()
    handle = await session.attach(
        videoroom.PLUGIN, lambda event: up.set() if isinstance(event, WebrtcUp) else None
    )
    pc = RTCPeerConnection(NO_ICE_SERVERS)
    try:
        await videoroom.join_publisher(handle, room, "Publisher")
        pc.addTrack(ToneTrack(PUBLISHER_HZ))
        pc.addTrack(ColourTrack(PUBLISHER_RGB))
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"type": "offer", "sdp": pc.localDescription.sdp}
        answer = await videoroom.configure_publisher(handle, offer)
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        await asyncio.wait_for(up.wait(), 15)
        yield
    finally:
        await pc.close()
        with contextlib.suppress(Exception):
            await videoroom.destroy_room(admin, room)


async def run_publishers() -> None:
    """Child-process mode (``--publishers``): both publishers, until stdin closes.

    They run in a process of their own so that aiortc's encoding does not share an event loop
    (and a GIL) with the Rathaus being measured. The configuration comes as one JSON line on
    stdin (not argv: it holds the Janus API secret); "ready" goes to stdout.
    """
    keep_media_on_loopback()
    loop = asyncio.get_running_loop()
    config = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    publisher = await rathaus_publisher(config["ws"], config["room"])
    client = JanusClient(config["janus_url"], config["janus_secret"])
    await client.connect()
    session = await client.create_session()
    try:
        async with janus_publisher(session, config["demo_room"]):
            sys.stdout.write("ready\n")
            sys.stdout.flush()
            await loop.run_in_executor(None, sys.stdin.read)
    finally:
        await publisher.close()
        await session.destroy()
        await client.close()


@contextlib.asynccontextmanager
async def publishers_process(config: dict[str, Any]) -> AsyncIterator[None]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--publishers",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps(config).encode() + b"\n")
        await proc.stdin.drain()
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError("the publishers did not start")
        yield
    finally:
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


# --- one measured join ---------------------------------------------------------------------------


class Blocked:
    """Counts (and aborts) requests that would leave the loopback addresses."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    async def route(self, route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            self.urls.append(route.request.url)
            await route.abort()


async def _finish(page: Page, console: list[str]) -> dict[str, Any]:
    try:
        await page.wait_for_function(
            "() => window.__bench && window.__bench.frame !== null", timeout=TIMEOUT_MS, polling=50
        )
    except PlaywrightError:
        state = await page.evaluate("() => window.__bench")
        sys.stderr.write(f"no remote frame in {page.url}; probe {state}\n")
        sys.stderr.write("\n".join(console[-40:]) + "\n")
        raise
    result: dict[str, Any] = await page.evaluate("() => window.__bench")
    result["ms"] = result["frame"] - result["click"]
    return result


async def join_rathaus(context: BrowserContext, url: str, config: dict[str, str]) -> dict[str, Any]:
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"[:300]))
    await page.add_init_script(script=f"({PROBE})({json.dumps(config)})")
    await page.goto(url)
    # Ready as a user sees it: the preview and the device lists are there (prejoin.show() done).
    await page.wait_for_function(
        "() => document.getElementById('camera-select').options.length > 1", timeout=TIMEOUT_MS
    )
    await page.get_by_role("textbox", name="Your name").fill("Bench")
    await page.get_by_role("button", name="Join meeting").click()
    return await _finish(page, console)


async def join_demo(context: BrowserContext, url: str, config: dict[str, str]) -> dict[str, Any]:
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"[:300]))
    await page.add_init_script(script=f"({PROBE})({json.dumps(config)})")
    await page.goto(url)
    await page.click("#start")
    await page.wait_for_selector("#register", state="visible", timeout=TIMEOUT_MS)
    await page.fill("#username", "bench")
    await page.click("#register")
    return await _finish(page, console)


def rathaus_settings(data_dir: Path) -> Any:
    """The test suite's settings (managed Janus on the test network)."""
    return support_server.server_settings(data_dir)


# --- the whole run -------------------------------------------------------------------------------


def phases(results: list[dict[str, Any]]) -> dict[str, float]:
    """Median time (ms after the click) of each stamp seen in every run, in time order."""
    names = set.intersection(*(set(r["marks"]) for r in results)) if results else set()
    med = {n: round(statistics.median(r["marks"][n] for r in results), 1) for n in names}
    return dict(sorted(med.items(), key=lambda item: item[1]))


async def alternate(
    browser: Browser, targets: dict[str, tuple[str, dict[str, str]]], runs: int, warmup: int
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Join with a fresh context per run, the two targets taking turns to go first."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    blocked = Blocked()
    for i in range(warmup + runs):
        order = list(targets) if i % 2 == 0 else list(reversed(targets))
        for name in order:
            url, config = targets[name]
            context = await browser.new_context()
            await context.route("**/*", blocked.route)
            try:
                join = join_rathaus if name == "rathaus" else join_demo
                result = await join(context, url, config)
            finally:
                await context.close()
            if i >= warmup:
                results[name].append(result)
            await asyncio.sleep(1.0)  # let Janus and Chromium tear the last session down
    return results, blocked.urls


@dataclass
class Target:
    http: str
    ws: str
    janus_url: str
    janus_secret: str


@contextlib.asynccontextmanager
async def rathaus_under_test(tmp: Path, in_process: bool) -> AsyncIterator[Target]:
    """Rathaus with its managed Janus: a process of its own (default), or in this event loop."""
    if in_process:
        async with support_server.running_server(rathaus_settings(tmp)) as server:
            supervisor = server.janus
            yield Target(server.http, server.ws, supervisor.url, supervisor.api_secret)
        return
    async with rathaus_process(tmp) as proc:
        janus_dir = tmp / "data" / "janus"
        ws_config = (janus_dir / "janus.transport.websockets.jcfg").read_text()
        match = re.search(r"ws_port = (\d+)", ws_config)
        if match is None:
            raise RuntimeError("no ws_port in the generated Janus configuration")
        yield Target(
            f"http://127.0.0.1:{proc.port}",
            f"ws://127.0.0.1:{proc.port}",
            f"ws://127.0.0.1:{match[1]}/",
            (janus_dir / "api_secret").read_text().strip(),
        )


async def bench(runs: int, warmup: int, in_process: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rathaus-bench-") as tmp:
        async with rathaus_under_test(Path(tmp), in_process) as server:
            room = f"bench-{secrets.token_hex(4)}"
            publishers = {
                "ws": server.ws,
                "room": room,
                "janus_url": server.janus_url,
                "janus_secret": server.janus_secret,
                "demo_room": DEMO_ROOM,
            }
            overrides = {
                "settings.js": _settings_js(server.janus_url.rstrip("/"), server.janus_secret),
                "videoroomtest.js": _quiet_demo(),
            }
            async with (
                publishers_process(publishers),
                demo_server(DEMOS, overrides) as port,
                async_playwright() as pw,
            ):
                browser = await pw.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
                )
                targets = {
                    "rathaus": (
                        f"{server.http}/r/{room}?lang=en",
                        {"click": "#join-button", "video": "[role=group]:not([data-self]) video"},
                    ),
                    "demo": (
                        f"http://127.0.0.1:{port}/videoroomtest.html?room={DEMO_ROOM}",
                        {"click": "#register", "video": "[id^=videoremote] video"},
                    ),
                }
                try:
                    results, blocked = await alternate(browser, targets, runs, warmup)
                    version = browser.version
                finally:
                    await browser.close()

    rathaus_runs, demo_runs = results["rathaus"], results["demo"]
    r = summary([x["ms"] for x in rathaus_runs])
    d = summary([x["ms"] for x in demo_runs])
    ratio = (
        round(r["median"] / d["median"], 2)  # type: ignore[operator]
        if r["median"] and d["median"]
        else None
    )
    return {
        "rathaus_ms": r,
        "janus_demo_ms": d,
        "ratio": ratio,
        "runs": runs,
        "warmup": warmup,
        "frame_detected_by": {
            "rathaus": sorted({x["how"] for x in rathaus_runs}),
            "janus_demo": sorted({x["how"] for x in demo_runs}),
        },
        "phases_median_ms": {"rathaus": phases(rathaus_runs), "janus_demo": phases(demo_runs)},
        "blocked_external_requests": len(blocked),
        "blocked_urls": sorted(set(blocked)),
        "chromium": version,
        "publisher": "aiortc 320x240@30 VP8 + Opus, in a separate process",
        "janus_demo_logging": "off (debug: false)",
        "rathaus": "in this process (shares the event loop with Playwright)"
        if in_process
        else "rathaus serve, a process of its own",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="measured joins per side (default 7)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured joins first (default 1)")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run Rathaus in this event loop (tests/support/server.py) instead of `rathaus serve`",
    )
    parser.add_argument("--publishers", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    require_test_network()
    if args.publishers:
        asyncio.run(run_publishers())
        return
    result = asyncio.run(bench(args.runs, args.warmup, args.in_process))
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
