"""Server load: CPU and memory of the rathaus process (and, separately, of its Janus) while N aiortc
bots sit in one meeting, each publishing and subscribing to every other bot.

Run in the test network namespace (``make bench`` does)::

    ./scripts/in-test-network.sh .venv/bin/python bench/load.py [--bots 10] [--seconds 60]

Rathaus runs as a process of its own (``rathaus serve --data-dir TMP --port FREE``, managed Janus
on the test network's veth) so that its figures are its own. The bots publish a small picture
(160x120, 5 fps by default) and a 48 kHz Opus tone, so that two cores can carry N encoders and
N·(N-1) subscriptions. Once every subscription has decoded video, CPU time (utime + stime from
/proc/<pid>/stat) and RSS (VmRSS from /proc/<pid>/status, sampled every second) are measured for
``--seconds``. The bots' own process is reported too: if it is near 100 % of a core the machine,
not Rathaus, is the bottleneck.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import os
import re
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import MEDIA_IFACE, ROOT, require_test_network
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import VideoStreamTrack
from av import VideoFrame
from tests.support.bot import NO_ICE_SERVERS, Bot, ToneTrack, keep_media_on_loopback

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
RATHAUS = ROOT / ".venv" / "bin" / "rathaus"


class SmallTrack(VideoStreamTrack):
    """A small picture of one colour at a low frame rate (cheap to encode and decode)."""

    def __init__(self, rgb: tuple[int, int, int], width: int, height: int, fps: int) -> None:
        super().__init__()
        self._picture = np.zeros((height, width, 3), dtype=np.uint8)
        self._picture[:, :] = rgb
        self._period = 1 / fps
        self._began: float | None = None
        self._count = 0

    async def recv(self) -> VideoFrame:
        if self._began is None:
            self._began = time.monotonic()
        wait = self._began + self._count * self._period - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        pts = int(self._count * self._period * 90000)
        self._count += 1
        frame = VideoFrame.from_ndarray(self._picture, format="rgb24")
        frame.pts, frame.time_base = pts, VIDEO_TIME_BASE
        return frame


# --- /proc ---------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


@dataclass
class Sampler:
    """RSS every second, CPU seconds at the start and the end of the window, per process."""

    pids: dict[str, int]
    rss: dict[str, list[float]] = field(default_factory=dict)
    cpu0: dict[str, float] = field(default_factory=dict)

    async def run(self, seconds: float) -> dict[str, Any]:
        started = time.monotonic()
        self.cpu0 = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.rss = {name: [] for name in self.pids}
        while True:
            for name, pid in self.pids.items():
                self.rss[name].append(rss_mib(pid))
            left = started + seconds - time.monotonic()
            if left <= 0:
                break
            await asyncio.sleep(min(1.0, left))
        wall = time.monotonic() - started
        out: dict[str, Any] = {}
        for name, pid in self.pids.items():
            used = cpu_seconds(pid) - self.cpu0[name]
            rss = self.rss[name]
            out[name] = {
                "cpu_seconds": round(used, 2),
                "cpu_percent_of_one_core": round(100 * used / wall, 1),
                "rss_mib_mean": round(sum(rss) / len(rss), 1),
                "rss_mib_max": round(max(rss), 1),
            }
        out["window_seconds"] = round(wall, 1)
        return out


# --- Rathaus as a process of its own -------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    pid: int
    port: int
    janus_pid: int


@contextlib.asynccontextmanager
async def rathaus_process(
    data_dir: Path, settings: dict[str, str] | None = None
) -> AsyncIterator[Server]:
    """``rathaus serve`` with its managed Janus on the test network; ``settings`` are further
    ``RATHAUS_*`` variables."""
    port = free_port()
    env = {
        **os.environ,
        "RATHAUS_JANUS_ICE_ENFORCE_LIST": MEDIA_IFACE,
        # aiortc bots cannot encrypt end to end (bench/e2ee.py measures what encryption costs)
        "RATHAUS_MEETING_E2EE_REQUIRED": "false",
        **(settings or {}),
    }
    log = (data_dir / "rathaus.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        str(RATHAUS),
        "serve",
        "--data-dir",
        str(data_dir / "data"),
        "--port",
        str(port),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        env=env,
        cwd=data_dir,
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not re.search(rb"Rathaus is running at http://\S+:\d+/", line):
            log.flush()
            raise RuntimeError(f"rathaus did not start: {(data_dir / 'rathaus.log').read_text()}")
        janus = [c for c in children(proc.pid) if comm(c).startswith("janus")]
        if not janus:
            raise RuntimeError("rathaus started no Janus")
        yield Server(proc.pid, port, janus[0])
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()


# --- the bots ------------------------------------------------------------------------------------


async def publish_small(
    bot: Bot, rgb: tuple[int, int, int], size: tuple[int, int], fps: int
) -> None:
    pc = RTCPeerConnection(NO_ICE_SERVERS)
    bot.publishers["camera"] = pc
    pc.addTrack(ToneTrack(440))
    pc.addTrack(SmallTrack(rgb, size[0], size[1], fps))
    await pc.setLocalDescription(await pc.createOffer())
    await bot.send({"type": "publish", "kind": "camera", "sdp": pc.localDescription.sdp})
    answer = await bot.expect("published", kind="camera", timeout=30)
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))


async def subscribe_all(bot: Bot, expected: int) -> None:
    """Subscribe to every other bot's feed: those in welcome, then each feed_added."""
    own = bot.welcome["self"]["id"]
    feeds = {f["id"] for f in bot.welcome["feeds"] if f["participant"] != own}
    done: set[str] = set()
    while len(done) < expected:
        for feed in sorted(feeds - done):
            await bot.subscribe(feed)
            done.add(feed)
        if len(done) < expected:
            added = await bot.expect("feed_added", timeout=60)
            if added["feed"]["participant"] != own:
                feeds.add(added["feed"]["id"])


def colour(i: int) -> tuple[int, int, int]:
    return ((37 * i) % 256, (91 * i) % 256, (151 * i) % 256)


async def bench(bots_n: int, seconds: float, size: tuple[int, int], fps: int) -> dict[str, Any]:
    keep_media_on_loopback()
    with tempfile.TemporaryDirectory(prefix="rathaus-load-") as tmp:
        async with rathaus_process(Path(tmp)) as server:
            pids = {"rathaus": server.pid, "janus": server.janus_pid, "bots": os.getpid()}
            idle = Sampler(pids)
            idle_figures = await idle.run(3)
            ws = f"ws://127.0.0.1:{server.port}"
            bots = [Bot(ws, "load", f"Bot {i + 1}") for i in range(bots_n)]
            setup_cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
            t0 = time.monotonic()
            try:
                for bot in bots:
                    await bot.join()
                await asyncio.gather(
                    *(publish_small(b, colour(i), size, fps) for i, b in enumerate(bots))
                )
                await asyncio.wait_for(
                    asyncio.gather(*(subscribe_all(b, bots_n - 1) for b in bots)), 120
                )
                subs = [r for b in bots for r in b.received.values()]
                deadline = time.monotonic() + 60
                while any(r.video_frames == 0 for r in subs) and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
                setup_s = time.monotonic() - t0
                setup_cpu = {
                    name: round(cpu_seconds(pid) - setup_cpu0[name], 2)
                    for name, pid in pids.items()
                }
                with_video = sum(r.video_frames > 0 for r in subs)
                frames0 = sum(r.video_frames for r in subs)
                figures = await Sampler(pids).run(seconds)
                frames = sum(r.video_frames for r in subs) - frames0
                alive = sum(b.ws is not None and b.ws.state.name == "OPEN" for b in bots)
            finally:
                await asyncio.gather(*(b.close() for b in bots), return_exceptions=True)
    window = figures["window_seconds"]
    return {
        "bots": bots_n,
        "subscriptions": len(subs),
        "subscriptions_with_video": with_video,
        "video": f"{size[0]}x{size[1]}@{fps} VP8, audio Opus 48 kHz",
        "received_video_fps_per_subscription": round(frames / window / max(len(subs), 1), 2),
        "sockets_open_at_end": alive,
        "setup_seconds": round(setup_s, 1),
        "setup_cpu_seconds": setup_cpu,
        "steady": figures,
        "idle_before_join": idle_figures,
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bots", type=int, default=10, help="participants (default 10)")
    parser.add_argument("--seconds", type=float, default=60, help="measured window (default 60)")
    parser.add_argument("--fps", type=int, default=5, help="bot video frame rate (default 5)")
    parser.add_argument("--size", default="160x120", help="bot video size (default 160x120)")
    args = parser.parse_args()
    require_test_network()
    width, height = (int(v) for v in args.size.split("x"))
    result = asyncio.run(bench(args.bots, args.seconds, (width, height), args.fps))
    result["summary"] = {
        "rathaus_cpu_percent": result["steady"]["rathaus"]["cpu_percent_of_one_core"],
        "rathaus_rss_mib_max": result["steady"]["rathaus"]["rss_mib_max"],
        "janus_cpu_percent": result["steady"]["janus"]["cpu_percent_of_one_core"],
        "janus_rss_mib_max": result["steady"]["janus"]["rss_mib_max"],
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
