"""What end-to-end encryption costs, in headless Chromium: join latency with and without E2EE, and
the CPU and wall time per frame of the SFrame code the E2EE worker runs.

Run in the test network namespace (``make bench`` does)::

    ./scripts/in-test-network.sh .venv/bin/python bench/e2ee.py [--runs 7] [--warmup 1]
        [--frames 2000] [--steady 6]

Setup: two Rathaus servers in this event loop (tests/support/server.py) on one managed Janus, alike
but for ``meeting.e2ee_required`` (false / true); one headless Chromium (Debian's, fake camera and
microphone, the test suite's flags). Requests to hosts other than 127.0.0.1/localhost are aborted
and counted.

1. Per-frame cost ("per_frame"), first, while no meeting runs. A cross-origin isolated page of the
   Rathaus origin imports frames.js and sframe.js and calls protectFrame / unprotectFrame (what
   worker.js does per frame) one frame after the other, each awaited as in the worker's
   TransformStream, on synthetic frames (random bytes): VP8 delta frames of 1,000, 10,000 and
   50,000 bytes and Opus frames of 100 bytes, AES_256_GCM_SHA512_128, an 8-byte KID as the
   keyring's. Batches of 200 frames, the sizes taking turns, after two warm-up rounds; each batch
   is one page.evaluate, timed twice: wall time in the page (performance.now(), 5 µs resolution
   here), and CPU time of the page's renderer process, all threads (the one that burns CPU while
   the page spins; sum of /proc/<pid>/task/*/schedstat, ns), less the median of an empty
   page.evaluate. Figures are µs per frame, median (min, max) over the ``--frames``/200 batches,
   and for CPU also the mean (with the occasional burst of garbage collection or of another thread
   of the renderer); MB/s is the size over the median. CPU time, what the machine pays, includes
   WebCrypto's thread and the hop to it and back; wall time includes waiting for a core. Each
   batch's last frame must decrypt to its plaintext. Not measured: the browser handing every
   encoded frame to the worker and back (RTCRtpScriptTransform), which E2EE adds too.

2. Join latency ("join_ms"). In each server's room a Chromium page has joined and publishes its
   camera. A second page, in a fresh context (a first visit: a new device key), opens the room and
   clicks "Join meeting"; the clock runs in the page from a capturing click listener on the join
   button (bench/join.py's probe) to the first remote video frame rendered
   (requestVideoFrameCallback; "join_first_frame_any_signal_ms" is join.py's figure, which polls
   videoWidth/currentTime as well). With E2EE that includes the key envelopes and the frames the
   joiner drops until it has the publisher's key. The variants take turns going first; ``--warmup``
   rounds are not counted. "phases_median_ms": when each signaling message and peer connection
   event came, median ms after the click.

3. Steady state ("steady_state"): a second participant joins the E2EE meeting (two pages in it);
   over ``--steady`` seconds the publisher's worker counters (window.rathaus.state().e2ee.stats)
   give the frames per second it encrypts and decrypts, and getStats the mean size of its sent
   video frames. Times the CPU cost per frame of part 1 (interpolated by size), that estimates the
   share of one core its encryption and decryption take (the transform plumbing left out).

The machine's load (other tests; two cores) shows in every figure, wall times most: compare the
variants within a run, and runs with each other. Prints one JSON object; a summary goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from _common import require_test_network, summary
from join import Blocked, join_rathaus, phases
from load import children
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.support.server import RunningServer, running_server, server_settings, shared_janus

VARIANTS = ("plain", "e2ee")
VIDEO_SIZES = (1_000, 10_000, 50_000)
AUDIO_SIZE = 100
BATCH = 200
TIMEOUT_MS = 30_000
VIDEO_IN_TILE = {"click": "#join-button", "video": "[role=group]:not([data-self]) video"}
BENCH_PAGE = "/__bench__/e2ee.html"
BENCH_MODULE = "/__bench__/e2ee.js"
ISOLATION = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}

# Served on the Rathaus origin (page.route), imported by a cross-origin isolated page.
BENCH_JS = r"""
import {protectFrame, unprotectFrame} from '/static/js/e2ee/frames.js';
import {
  AES_256_GCM_SHA512_128 as SUITE, ReceiverContext, SenderContext, generateBaseKey, importBaseKey,
} from '/static/js/e2ee/sframe.js';

const KID = 0x5eed1234n << 32n;
const now = () => performance.now();
const runners = [];

function random(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export const isolated = () => globalThis.crossOriginIsolated === true;
export const nothing = () => 0;
export const spin = (ms) => {
  const t = now();
  while (now() - t < ms);
  return 0;
};

// `batch` frames of one kind and size, each awaited: encrypt() then decrypt(), µs per frame.
async function runner(kind, size, batch) {
  const base = await importBaseKey(generateBaseKey(SUITE));
  const sender = await SenderContext.create(SUITE, KID, base);
  const receiver = new ReceiverContext();
  await receiver.addKey(SUITE, KID, base);
  const plain = random(size);
  const sealed = new Array(batch);
  return {
    async encrypt() {
      const t = now();
      for (let i = 0; i < batch; i++) sealed[i] = await protectFrame(sender, kind, false, plain);
      return (now() - t) * 1000 / batch;
    },
    async decrypt() {
      let last = null;
      const t = now();
      for (let i = 0; i < batch; i++) last = await unprotectFrame(receiver, kind, false, sealed[i]);
      const us = (now() - t) * 1000 / batch;
      if (!same(new Uint8Array(last), plain)) throw new Error('a frame did not decrypt right');
      return us;
    },
    overhead: () => sealed[0].byteLength - size,
  };
}

export async function prepare(specs, batch) {
  for (const [kind, size] of specs) runners.push(await runner(kind, size, batch));
}
export const encrypt = (i) => runners[i].encrypt();
export const decrypt = (i) => runners[i].decrypt();
export const overhead = (i) => runners[i].overhead();
"""

# The first remote video frame rendered: requestVideoFrameCallback on every remote tile's video.
RENDERED = """
(() => {
  const seen = new WeakSet();
  const watch = () => {
    for (const v of document.querySelectorAll('[role=group]:not([data-self]) video')) {
      if (seen.has(v)) continue;
      seen.add(v);
      v.requestVideoFrameCallback((t) => { window.__benchRendered ??= t; });
    }
    if (window.__benchRendered === undefined) setTimeout(watch, 2);
  };
  watch();
})();
"""

# Keeps the page's RTCPeerConnections within reach of getStats.
KEEP_PCS = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__benchPeerConnections = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__benchPeerConnections.push(this); }
  };
})();
"""

SENT_VIDEO = """
async () => {
  let bytes = 0, frames = 0;
  for (const pc of window.__benchPeerConnections) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        bytes += s.bytesSent ?? 0;
        frames += s.framesEncoded ?? 0;
      }
    });
  }
  return {bytes, frames};
}
"""


# --- pages ---------------------------------------------------------------------------------------


async def new_context(browser: Browser, blocked: Blocked) -> BrowserContext:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.route("**/*", blocked.route)
    return context


async def join_and_publish(context: BrowserContext, url: str, name: str) -> Page:
    """A participant in the meeting, its camera published."""
    page = await context.new_page()
    await page.add_init_script(script=KEEP_PCS)
    await page.goto(url)
    await page.get_by_role("textbox", name="Your name").fill(name)
    await page.get_by_role("button", name="Join meeting").click()
    await page.wait_for_function(
        "() => window.rathaus.state().publishing.camera === 'connected'", timeout=TIMEOUT_MS
    )
    return page


# --- 1. join latency -----------------------------------------------------------------------------


async def join_once(browser: Browser, url: str, blocked: Blocked) -> dict[str, Any]:
    """One join in a fresh context: bench/join.py's probe, plus the first frame rendered."""
    context = await new_context(browser, blocked)
    try:
        await context.add_init_script(script=RENDERED)
        result = await join_rathaus(context, url, VIDEO_IN_TILE)
        page = context.pages[0]
        await page.wait_for_function(
            "() => window.__benchRendered !== undefined", timeout=TIMEOUT_MS
        )
        rendered = await page.evaluate("() => window.__benchRendered - window.__bench.click")
        result["rendered_ms"] = rendered
        result["e2ee_on"] = await page.evaluate("() => window.rathaus.state().e2ee.on")
        return result
    finally:
        await context.close()


async def join_latency(
    browser: Browser, urls: dict[str, str], blocked: Blocked, runs: int, warmup: int
) -> dict[str, list[dict[str, Any]]]:
    """Joins into each variant's meeting, the variants taking turns to go first."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in urls}
    for i in range(warmup + runs):
        for name in list(urls) if i % 2 == 0 else list(reversed(urls)):
            result = await join_once(browser, urls[name], blocked)
            if i >= warmup:
                results[name].append(result)
            note = " (warm-up)" if i < warmup else ""
            sys.stderr.write(f"  join {name:5} {result['rendered_ms']:6.0f} ms{note}\n")
            await asyncio.sleep(1.0)  # let Janus tear the session down (and the publisher rekey)
    return results


# --- 2. per-frame cost ---------------------------------------------------------------------------


async def bench_page(browser: Browser, server: RunningServer, blocked: Blocked) -> Page:
    """A cross-origin isolated page of the Rathaus origin with BENCH_JS imported as ``bench``."""
    context = await new_context(browser, blocked)
    page = await context.new_page()

    def echo(text: str) -> None:
        sys.stderr.write(f"  bench page: {text}\n")

    page.on("console", lambda m: echo(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: echo(f"error: {e}"))

    async def html(route: Route) -> None:
        body = "<!doctype html><title>e2ee bench</title>"
        await route.fulfill(content_type="text/html", headers=ISOLATION, body=body)

    async def module(route: Route) -> None:
        await route.fulfill(content_type="text/javascript", headers=ISOLATION, body=BENCH_JS)

    async def isolated(route: Route) -> None:
        """The app's own modules, with the headers an isolated page requires."""
        response = await route.fetch()
        await route.fulfill(response=response, headers={**response.headers, **ISOLATION})

    await page.route(server.http + BENCH_PAGE, html)
    await page.route(server.http + BENCH_MODULE, module)
    await page.route(server.http + "/static/js/**", isolated)
    await page.goto(server.http + BENCH_PAGE)
    await page.evaluate("async (url) => { window.bench = await import(url); }", BENCH_MODULE)
    return page


SPECS = [(f"video_{s}B", "video", s) for s in VIDEO_SIZES] + [
    (f"audio_{AUDIO_SIZE}B", "audio", AUDIO_SIZE)
]


def chromium_renderers() -> list[int]:
    """This bench's Chromium renderer processes (descendants of this process)."""
    found, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        todo += children(pid)
        with contextlib.suppress(OSError):
            if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def cpu_ns(pid: int) -> int:
    """CPU time of the live threads of ``pid`` (schedstat: ns, not clock ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError, ValueError):
            total += int((task / "schedstat").read_text().split()[0])
    return total


async def timed(page: Page, pids: list[int], call: str) -> tuple[float, dict[int, int]]:
    """The page's answer (wall µs per frame) and each process's CPU ns over one page.evaluate."""
    before = {pid: cpu_ns(pid) for pid in pids}
    wall = float(await page.evaluate(call))
    return wall, {pid: cpu_ns(pid) - ns for pid, ns in before.items()}


async def own_renderer(page: Page) -> int:
    """The bench page's renderer: the busiest one while the page spins, three times in a row (a
    renderer starting or closing meanwhile may be busier once)."""
    busiest: list[int] = []
    for _ in range(12):
        _, spun = await timed(page, chromium_renderers(), "() => bench.spin(200)")
        busiest = [*busiest[-2:], max(spun, key=lambda pid: spun[pid])]
        if len(busiest) == 3 and len(set(busiest)) == 1:
            return busiest[0]
    raise RuntimeError(f"cannot tell the bench page's renderer process: {busiest}")


def costs(wall: list[float], cpu: list[float], size: int) -> dict[str, Any]:
    w, c = summary(wall, 2), summary(cpu, 2)

    def mbps(median: object) -> float | None:
        return round(size / median, 1) if isinstance(median, float) and median > 0 else None

    return {
        "wall_us": w,
        "cpu_us": c,
        "cpu_us_mean": round(statistics.fmean(cpu), 2),
        "MBps_wall": mbps(w["median"]),
        "MBps_cpu": mbps(c["median"]),
    }


async def per_frame(
    browser: Browser, server: RunningServer, blocked: Blocked, frames: int
) -> dict[str, Any]:
    page = await bench_page(browser, server, blocked)
    try:
        isolated: bool = await page.evaluate("() => bench.isolated()")
        await page.evaluate("(a) => bench.prepare(...a)", [[[k, s] for _, k, s in SPECS], BATCH])
        own = await own_renderer(page)
        empty = [await timed(page, [own], "() => bench.nothing()") for _ in range(20)]
        base = statistics.median(used[own] for _, used in empty)
        if not base:
            raise RuntimeError(f"renderer {own} used no CPU for the bench page")
        raw: dict[str, dict[str, list[float]]] = {label: {} for label, _, _ in SPECS}
        for r in range(2 + frames // BATCH):  # two warm-up rounds
            for i, (label, _, _) in enumerate(SPECS):
                for op in ("encrypt", "decrypt"):
                    wall, used = await timed(page, [own], f"() => bench.{op}({i})")
                    if r >= 2:
                        raw[label].setdefault(f"{op}_wall", []).append(wall)
                        raw[label].setdefault(f"{op}_cpu", []).append(
                            (used[own] - base) / BATCH / 1e3
                        )
        overhead = [await page.evaluate(f"() => bench.overhead({i})") for i in range(len(SPECS))]
    finally:
        await page.context.close()
    out: dict[str, Any] = {}
    for i, (label, _, size) in enumerate(SPECS):
        out[label] = {"bytes": size, "overhead_bytes": overhead[i]}
        for op in ("encrypt", "decrypt"):
            out[label][op] = costs(raw[label][f"{op}_wall"], raw[label][f"{op}_cpu"], size)
    return {
        "timer": "cross-origin isolated (5 µs)" if isolated else "not isolated (100 µs)",
        "frames_per_size": frames,
        "batch": BATCH,
        "cpu_of": "the bench page's renderer process, all threads (WebCrypto's included)",
        "empty_evaluate_cpu_us": round(base / 1e3, 1),
        "frames": out,
    }


# --- 3. steady state -----------------------------------------------------------------------------


async def fresh_stats(page: Page) -> tuple[float, dict[str, Any]]:
    """The worker counters just after the page polled them (every second), and when."""
    read = "() => window.rathaus.state().e2ee.stats"
    old = await page.evaluate(read)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        new = await page.evaluate(read)
        if new and new != old:
            return time.monotonic(), new
    raise RuntimeError("the E2EE stats did not move")


def rates(a: dict[str, Any], b: dict[str, Any], seconds: float) -> dict[str, float]:
    """Frames per second through the worker, by direction and kind (all simulcast layers)."""
    out: dict[str, float] = {}
    for tid, t in b["transforms"].items():
        key = f"{'encrypted' if t['role'] == 'sender' else 'decrypted'}_{t['kind']}_fps"
        before = a["transforms"].get(tid, {"frames": 0})["frames"]
        out[key] = out.get(key, 0.0) + (t["frames"] - before) / seconds
    return {k: round(v, 1) for k, v in sorted(out.items())}


def cpu_at(frames: dict[str, Any], size: float, op: str) -> float:
    """Median CPU µs per frame at ``size`` bytes, linear between (and beyond) the video sizes."""
    (x0, y0), (x1, y1) = [
        (s, frames[f"video_{s}B"][op]["cpu_us"]["median"])
        for s in (VIDEO_SIZES[:2] if size <= VIDEO_SIZES[1] else VIDEO_SIZES[1:])
    ]
    return float(max(y0 + (y1 - y0) * (size - x0) / (x1 - x0), 0.0))


async def steady_state(
    browser: Browser, publisher: Page, url: str, blocked: Blocked, seconds: float, frames_cost: Any
) -> dict[str, Any]:
    context = await new_context(browser, blocked)
    try:
        await join_and_publish(context, url, "Viewer")
        await publisher.wait_for_function(
            """() => Object.values(window.rathaus.state().e2ee.stats?.transforms ?? {}).some(
                 (t) => t.role === 'receiver' && t.kind === 'video' && t.frames > 30)""",
            timeout=TIMEOUT_MS,
        )
        t0, s0 = await fresh_stats(publisher)
        v0 = await publisher.evaluate(SENT_VIDEO)
        await asyncio.sleep(seconds)
        t1, s1 = await fresh_stats(publisher)
        v1 = await publisher.evaluate(SENT_VIDEO)
    finally:
        await context.close()
    fps = rates(s0, s1, t1 - t0)
    frames = v1["frames"] - v0["frames"]
    video_bytes = (v1["bytes"] - v0["bytes"]) / frames if frames else 0.0
    audio = frames_cost[f"audio_{AUDIO_SIZE}B"]
    share = {
        op: round(
            fps.get(f"{done}_video_fps", 0) * cpu_at(frames_cost, video_bytes, op)
            + fps.get(f"{done}_audio_fps", 0) * audio[op]["cpu_us"]["median"]
        )
        for op, done in (("encrypt", "encrypted"), ("decrypt", "decrypted"))
    }
    return {
        "participants": 2,
        "window_seconds": round(t1 - t0, 1),
        "publisher_worker_fps": fps,
        "publisher_video_bytes_per_frame_sent": round(video_bytes),
        "estimated_crypto_cpu_us_per_second": share,
        "estimated_crypto_percent_of_one_core": round(sum(share.values()) / 1e4, 2),
        "drops": {k: v for k, v in s1["dropped"].items() if v},
    }


# --- the whole run -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def servers(tmp: Path) -> AsyncIterator[dict[str, RunningServer]]:
    """The two variants: the second uses the first's managed Janus."""
    plain_settings = server_settings(tmp / "plain", meeting={"e2ee_required": False})
    async with running_server(plain_settings) as plain:
        e2ee_settings = server_settings(
            tmp / "e2ee", janus=shared_janus(plain), meeting={"e2ee_required": True}
        )
        async with running_server(e2ee_settings) as e2ee:
            yield {"plain": plain, "e2ee": e2ee}


async def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    blocked = Blocked()
    async with servers(tmp) as running, async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        try:
            room = f"bench-{secrets.token_hex(4)}"
            urls = {v: f"{running[v].http}/r/{room}?lang=en" for v in VARIANTS}
            sys.stderr.write("per-frame cost...\n")
            costs = await per_frame(browser, running["e2ee"], blocked, args.frames)
            publishers = {
                v: await join_and_publish(await new_context(browser, blocked), urls[v], "Publisher")
                for v in VARIANTS
            }
            sys.stderr.write("join latency:\n")
            joins = await join_latency(browser, urls, blocked, args.runs, args.warmup)
            sys.stderr.write("steady state...\n")
            steady = await steady_state(
                browser, publishers["e2ee"], urls["e2ee"], blocked, args.steady, costs["frames"]
            )
            version = browser.version
        finally:
            await browser.close()
    return {
        "joins": joins,
        "per_frame": costs,
        "steady_state": steady,
        "blocked": blocked.urls,
        "chromium": version,
    }


def report(m: dict[str, Any], args: argparse.Namespace, seconds: float) -> dict[str, Any]:
    joins = m["joins"]
    rendered = {v: summary([r["rendered_ms"] for r in joins[v]]) for v in VARIANTS}
    first = {v: summary([r["ms"] for r in joins[v]]) for v in VARIANTS}
    med = {v: float(rendered[v]["median"]) for v in VARIANTS}  # type: ignore[arg-type]
    return {
        "join_ms": rendered,
        "join_e2ee_minus_plain_ms": round(med["e2ee"] - med["plain"], 1),
        "join_e2ee_over_plain": round(med["e2ee"] / med["plain"], 2),
        "join_first_frame_any_signal_ms": first,
        "frame_detected_first_by": {v: sorted({r["how"] for r in joins[v]}) for v in VARIANTS},
        "e2ee_on_in_joins": {v: sorted({r["e2ee_on"] for r in joins[v]}) for v in VARIANTS},
        "phases_median_ms": {v: phases(joins[v]) for v in VARIANTS},
        "runs": args.runs,
        "warmup": args.warmup,
        "per_frame": m["per_frame"],
        "steady_state": m["steady_state"],
        "blocked_external_requests": len(m["blocked"]),
        "blocked_urls": sorted(set(m["blocked"])),
        "chromium": m["chromium"],
        "suite": "AES_256_GCM_SHA512_128",
        "rathaus": "two servers in this process (one managed Janus), e2ee_required false / true",
        "seconds": round(seconds, 1),
    }


def human(result: dict[str, Any]) -> str:
    j = result["join_ms"]
    lines = [
        "join (rendered): "
        + ", ".join(f"{v} {j[v]['median']} ms ({j[v]['min']}-{j[v]['max']})" for v in VARIANTS)
        + f"; E2EE +{result['join_e2ee_minus_plain_ms']} ms"
    ]
    for label, c in result["per_frame"]["frames"].items():
        e, d = c["encrypt"], c["decrypt"]
        lines.append(
            f"{label:12} µs/frame cpu (wall): encrypt {e['cpu_us']['median']:6.1f} "
            f"({e['wall_us']['median']:6.1f})  decrypt {d['cpu_us']['median']:6.1f} "
            f"({d['wall_us']['median']:6.1f}); MB/s cpu {e['MBps_cpu']} / {d['MBps_cpu']}"
        )
    s = result["steady_state"]
    lines.append(
        f"steady: {s['publisher_worker_fps']}, "
        f"{s['publisher_video_bytes_per_frame_sent']} B per video frame: "
        f"≈{s['estimated_crypto_percent_of_one_core']} % of a core; {result['seconds']} s in all"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--runs", type=int, default=7, help="measured joins per variant (default 7)")
    add("--warmup", type=int, default=1, help="unmeasured rounds of joins first (default 1)")
    add("--frames", type=int, default=2000, help=f"frames per size, a multiple of {BATCH} (2000)")
    add("--steady", type=float, default=6.0, help="steady-state window, seconds (default 6)")
    args = parser.parse_args()
    if args.frames < BATCH or args.frames % BATCH or args.runs < 1:
        parser.error(f"--frames must be a multiple of {BATCH}, --runs at least 1")
    require_test_network()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rathaus-bench-e2ee-") as tmp:
        measured = asyncio.run(measure(args, Path(tmp)))
    result = report(measured, args, time.monotonic() - started)
    sys.stderr.write(human(result))
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
