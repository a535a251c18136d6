"""Key relay: how fast Rathaus passes on everyone's new media key after someone leaves, in
meetings of 50, 100 and 200 participants.

Run in the test network namespace (``make bench`` does)::

    ./scripts/in-test-network.sh .venv/bin/python bench/keys.py [--sizes 50,100,200]

In an end-to-end encrypted meeting every browser seals its media key to each other participant's
device, and Rathaus relays these envelopes without being able to open them (docs/protocol.md,
"End-to-end encryption"). When someone leaves, every remaining participant rotates its key and
sends a new envelope to everyone else at once: in a meeting of N that is N·(N-1) envelopes, sent as
``key_envelopes`` batches of up to 100 and delivered one ``key_envelope`` each.

For each size, a fresh Rathaus runs as a process of its own (``rathaus serve``, as in
bench/load.py, but with ``meeting.e2ee_required`` left on and ``meeting.join_attempts_per_minute``
raised so that N joins from 127.0.0.1 are let in). N plain WebSocket clients in this process join
one ad-hoc room, each with a device that can encrypt (tests/support/devices.py), and publish no
media. Once everyone has seen everyone else join, a rotation is simulated: every client sends an
envelope to each of the others — 177 random bytes, unpadded base64url (236 characters), the size
of a real envelope of a 32-byte key (src/rathaus/web/static/js/e2ee/envelope.js) — in batches of
100, all clients at once (the messages are built beforehand, so that building them is not timed).
Two rotations run back to back (two leaves in a row), which is what the per-sender envelope budget
must allow.

Measured per rotation:

- wall time from the first send until every client holds all N-1 envelopes addressed to it,
  and when the individual clients got their last one;
- that each envelope arrived exactly once, from the sender that sent it, unchanged (missing,
  duplicated, altered and late ones are counted), and every ``error`` frame (``rate_limited``
  above all) and socket closed by the server;
- the server's CPU seconds (utime + stime of the ``rathaus serve`` process, /proc/<pid>/stat)
  over that wall time, and its RSS (VmRSS, sampled every 10 ms by a thread) before and at peak;
- messages and bytes sent to Rathaus (batches) and relayed by it (``key_envelope`` frames), as
  WebSocket payloads. The clients offer permessage-deflate as browsers do (unless
  ``--no-compression``); Rathaus declines it, and the output shows what was negotiated.

Caveat: the clients run in this process on the same 2-core machine as the server, in one event
loop; ``clients_cpu_seconds`` shows how much of a core they took. Where it is close to the wall
time, the clients, not Rathaus, were the limit. Only loopback addresses are used.

Prints one JSON object on stdout and a short summary on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import require_test_network
from load import Server, cpu_seconds, rathaus_process, rss_mib
from tests.support.devices import TestDevice
from websockets.asyncio.client import ClientConnection, connect

ENVELOPE_BYTES = 177  # version 1, 32-byte base key (envelope.js)
BATCH = 100  # MAX_ENVELOPES_PER_MESSAGE
JOIN_CONCURRENCY = 16
JOIN_TIMEOUT = 30.0
PING_EVERY = 4.0  # the server closes a socket silent for 10 s
SETTLE = 0.5  # after the last rotation: late duplicates and errors still count


# --- Rathaus, end-to-end encryption required ------------------------------------------------------


def rathaus_e2ee(data_dir: Path) -> contextlib.AbstractAsyncContextManager[Server]:
    """``rathaus serve`` as bench/load.py runs it, but with E2EE required (the default) and joins
    from one address not limited."""
    return rathaus_process(
        data_dir,
        {
            "RATHAUS_MEETING_E2EE_REQUIRED": "true",
            "RATHAUS_MEETING_JOIN_ATTEMPTS_PER_MINUTE": "100000",
        },
    )


class RssSampler:
    """The peak VmRSS of a process, sampled from a thread (the event loop is busy meanwhile)."""

    def __init__(self, pid: int, period: float = 0.01) -> None:
        self._pid, self._period = pid, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.before = rss_mib(pid)
        self.peak = self.before

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            with contextlib.suppress(OSError, ValueError):
                self.peak = max(self.peak, rss_mib(self._pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib(self._pid))


# --- one participant -----------------------------------------------------------------------------


def envelope() -> str:
    return base64.urlsafe_b64encode(os.urandom(ENVELOPE_BYTES)).rstrip(b"=").decode()


@dataclass
class Rotation:
    """What one rotation expects, and what has arrived, across all clients."""

    index: int
    expected: int
    done: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = 0.0
    completed: int = 0  # envelopes delivered correctly
    client_done_at: list[float] = field(default_factory=list)
    duplicates: int = 0
    altered: int = 0
    wrong_sender: int = 0
    late: int = 0  # an envelope of the previous rotation, arriving during this one
    relayed_messages: int = 0
    relayed_bytes: int = 0


@dataclass
class Client:
    url: str
    name: str
    device: TestDevice = field(default_factory=TestDevice.new)
    ws: ClientConnection | None = None
    id: str = ""
    others: set[str] = field(default_factory=set)
    errors: list[dict[str, Any]] = field(default_factory=list)
    closed_by_server: int | None = None
    # sender → envelope, for the current and the previous rotation
    expect: dict[str, str] = field(default_factory=dict)
    previous: dict[str, str] = field(default_factory=dict)
    got: set[str] = field(default_factory=set)
    rotation: Rotation | None = None
    _welcome: asyncio.Future[dict[str, Any]] | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _closing: bool = False

    async def join(self, compression: bool) -> None:
        self.ws = await connect(
            self.url,
            compression="deflate" if compression else None,
            proxy=None,
            ping_interval=None,  # the protocol's own ping below
            max_queue=None,
        )
        self._welcome = asyncio.get_running_loop().create_future()
        self._tasks.append(asyncio.create_task(self._read()))
        join = {"type": "join", "name": self.name, "device": self.device.public()}
        await self.ws.send(json.dumps(join))
        welcome = await asyncio.wait_for(self._welcome, JOIN_TIMEOUT)
        self.id = welcome["self"]["id"]
        self.others |= {p["id"] for p in welcome["participants"]}
        self._tasks.append(asyncio.create_task(self._ping()))

    def compression(self) -> str:
        assert self.ws is not None
        return ",".join(type(e).__name__ for e in self.ws.protocol.extensions) or "none"

    async def _ping(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(PING_EVERY)
                await self.ws.send('{"type":"ping"}')

    async def _read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(Exception):
            async for frame in self.ws:
                assert isinstance(frame, str)
                self._receive(frame, json.loads(frame))
        if not self._closing:
            self.closed_by_server = self.ws.close_code or 1006
        if self._welcome is not None and not self._welcome.done():
            self._welcome.set_exception(RuntimeError(f"{self.name}: closed before welcome"))

    def _receive(self, frame: str, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "key_envelope":
            self._envelope(frame, message["from"], message["envelope"])
        elif kind == "participant_joined":
            self.others.add(message["participant"]["id"])
        elif kind == "participant_left":
            self.others.discard(message["id"])
        elif kind == "welcome":
            assert self._welcome is not None
            self._welcome.set_result(message)
        elif kind in ("error", "lobby", "bye"):
            seen = {**message, "rotation": self.rotation.index if self.rotation else None}
            self.errors.append(seen)
            if self._welcome is not None and not self._welcome.done():
                self._welcome.set_exception(RuntimeError(f"{self.name}: {message}"))

    def _envelope(self, frame: str, sender: str, value: str) -> None:
        rotation = self.rotation
        if rotation is None:
            self.errors.append({"type": "unexpected key_envelope", "from": sender})
            return
        rotation.relayed_messages += 1
        rotation.relayed_bytes += len(frame)  # ASCII: characters are bytes
        wanted = self.expect.get(sender)
        if wanted is None:
            rotation.wrong_sender += 1
        elif value != wanted:
            if self.previous.get(sender) == value:
                rotation.late += 1
            elif value in self.expect.values():
                rotation.wrong_sender += 1  # someone else's envelope, labelled as from `sender`
            else:
                rotation.altered += 1
        elif sender in self.got:
            rotation.duplicates += 1
        else:
            self.got.add(sender)
            rotation.completed += 1
            if len(self.got) == len(self.expect):
                rotation.client_done_at.append(time.monotonic() - rotation.started)
            if rotation.completed == rotation.expected:
                rotation.done.set()

    def prepare(self, rotation: Rotation, envelopes: dict[str, str]) -> None:
        """Expect ``envelopes`` (sender → envelope) in ``rotation``."""
        self.previous, self.expect, self.got = self.expect, envelopes, set()
        self.rotation = rotation

    async def send_all(self, frames: list[str]) -> None:
        assert self.ws is not None
        for frame in frames:
            await self.ws.send(frame)

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks[1:]:
            task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 10)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


# --- joining and rotating ------------------------------------------------------------------------


async def join_all(clients: list[Client], compression: bool) -> float:
    """Join everyone (a few at a time); returns the seconds until all have seen all others."""
    started = time.monotonic()
    gate = asyncio.Semaphore(JOIN_CONCURRENCY)

    async def one(client: Client) -> None:
        async with gate:
            await client.join(compression)

    await asyncio.gather(*(one(c) for c in clients))
    everyone = {c.id for c in clients}
    deadline = time.monotonic() + JOIN_TIMEOUT
    while any(c.others != everyone - {c.id} for c in clients):
        if time.monotonic() > deadline:
            short = sum(c.others != everyone - {c.id} for c in clients)
            raise RuntimeError(f"{short} clients did not see everyone join")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def batches(recipients: dict[str, str]) -> list[str]:
    """``key_envelopes`` messages of up to BATCH envelopes (recipient → envelope)."""
    items = [{"to": to, "envelope": value} for to, value in recipients.items()]
    return [
        json.dumps({"type": "key_envelopes", "envelopes": items[i : i + BATCH]})
        for i in range(0, len(items), BATCH)
    ]


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "max": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {
        "p50": round(statistics.median(ordered), 3),
        "p90": round(p90, 3),
        "max": round(ordered[-1], 3),
    }


async def rotate(
    clients: list[Client], index: int, server: Server, wait_s: float
) -> tuple[Rotation, dict[str, Any]]:
    """Everyone sends a new envelope to everyone else at once; wait until all have arrived."""
    n = len(clients)
    rotation = Rotation(index, n * (n - 1))
    # sealed[sender][recipient]: built before the clock starts
    sealed = {s.id: {r.id: envelope() for r in clients if r is not s} for s in clients}
    for c in clients:
        c.prepare(rotation, {s.id: sealed[s.id][c.id] for s in clients if s is not c})
    frames = {c.id: batches(sealed[c.id]) for c in clients}
    inbound = [f for fs in frames.values() for f in fs]

    with RssSampler(server.pid) as rss:
        cpu0, clients_cpu0 = cpu_seconds(server.pid), time.process_time()
        rotation.started = time.monotonic()
        await asyncio.gather(*(c.send_all(frames[c.id]) for c in clients))
        sent = time.monotonic() - rotation.started
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(rotation.done.wait(), wait_s)
        wall = time.monotonic() - rotation.started
        cpu = cpu_seconds(server.pid) - cpu0
        clients_cpu = time.process_time() - clients_cpu0

    missing = [(s, c.id) for c in clients for s in c.expect if s not in c.got]
    return rotation, {
        "rotation": index,
        "complete": rotation.done.is_set(),
        "wall_seconds": round(wall, 3),
        "all_sent_seconds": round(sent, 3),
        "client_complete_seconds": percentiles(rotation.client_done_at),
        "envelopes_expected": rotation.expected,
        "envelopes_delivered": rotation.completed,
        "missing": len(missing),
        "missing_senders": len({s for s, _ in missing}),
        "missing_recipients": len({r for _, r in missing}),
        "inbound": {"messages": len(inbound), "bytes": sum(len(f) for f in inbound)},
        "envelopes_per_second": round(rotation.completed / wall, 1) if wall else None,
        "server_cpu_seconds": round(cpu, 3),
        "server_cpu_percent_of_one_core": round(100 * cpu / wall, 1) if wall else None,
        "server_rss_mib_before": round(rss.before, 1),
        "server_rss_mib_peak": round(rss.peak, 1),
        "clients_cpu_seconds": round(clients_cpu, 3),
    }


def counted(rotation: Rotation, figures: dict[str, Any], clients: list[Client]) -> dict[str, Any]:
    """What went wrong in a rotation, counted once the next rotation (or SETTLE) is over: an
    envelope or error that comes after the rotation completed counts too."""
    errors = [e for c in clients for e in c.errors if e.get("rotation") == rotation.index]
    return {
        **figures,
        "duplicates": rotation.duplicates,
        "altered": rotation.altered,
        "wrong_sender": rotation.wrong_sender,
        "late_from_previous_rotation": rotation.late,
        "relayed": {"messages": rotation.relayed_messages, "bytes": rotation.relayed_bytes},
        "errors": dict(Counter(str(e.get("code", e["type"])) for e in errors)),
        "error_samples": errors[:5],
    }


async def one_size(n: int, rotations: int, wait_s: float, compression: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rathaus-keys-") as tmp:
        async with rathaus_e2ee(Path(tmp)) as server:
            url = f"ws://127.0.0.1:{server.port}/ws/rooms/keys-{secrets.token_hex(4)}"
            clients = [Client(url, f"Participant {i + 1}") for i in range(n)]
            try:
                join_s = await join_all(clients, compression)
                rss_joined = rss_mib(server.pid)
                measured = [await rotate(clients, i + 1, server, wait_s) for i in range(rotations)]
                await asyncio.sleep(SETTLE)
                runs = [counted(rotation, figures, clients) for rotation, figures in measured]
                join_errors = [e for c in clients for e in c.errors if e.get("rotation") is None]
                closed = Counter(str(c.closed_by_server) for c in clients if c.closed_by_server)
                extensions = clients[0].compression()
                hwm = _vm_hwm(server.pid)
            finally:
                await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return {
        "participants": n,
        "join_seconds": round(join_s, 2),
        "server_rss_mib_after_join": round(rss_joined, 1),
        "server_rss_mib_high_water_mark": hwm,
        "sockets_closed_by_server": dict(closed),
        "errors_before_rotations": join_errors[:5],
        "websocket_extensions": extensions,
        "rotations": runs,
    }


def _vm_hwm(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


# --- the whole run -------------------------------------------------------------------------------


def ok(size: dict[str, Any]) -> bool:
    quiet = not (size["sockets_closed_by_server"] or size["errors_before_rotations"])
    return quiet and all(
        r["complete"]
        and not (r["missing"] or r["duplicates"] or r["altered"] or r["wrong_sender"])
        and not r["errors"]
        for r in size["rotations"]
    )


def describe(size: dict[str, Any]) -> str:
    lines = [
        f"N={size['participants']}: joined in {size['join_seconds']} s, "
        f"RSS {size['server_rss_mib_after_join']} MiB"
        + (
            f", sockets closed {size['sockets_closed_by_server']}"
            if size["sockets_closed_by_server"]
            else ""
        )
    ]
    for r in size["rotations"]:
        state = "complete" if r["complete"] else f"INCOMPLETE ({r['missing']} missing)"
        lines.append(
            f"  rotation {r['rotation']}: {r['envelopes_delivered']}/{r['envelopes_expected']} "
            f"{state} in {r['wall_seconds']} s (sent in {r['all_sent_seconds']} s, "
            f"{r['envelopes_per_second']}/s); server {r['server_cpu_seconds']} CPU s, "
            f"RSS {r['server_rss_mib_before']} -> {r['server_rss_mib_peak']} MiB; "
            f"clients {r['clients_cpu_seconds']} CPU s; "
            f"{r['relayed']['bytes'] / 1e6:.1f} MB relayed; errors {r['errors'] or 'none'}"
        )
        extra = {
            k: r[k]
            for k in ("duplicates", "altered", "wrong_sender", "late_from_previous_rotation")
            if r[k]
        }
        if extra:
            lines.append(f"    {extra}")
    return "\n".join(lines)


async def bench(
    sizes: list[int], rotations: int, wait_s: float, compression: bool
) -> dict[str, Any]:
    results = []
    for n in sizes:
        result = await one_size(n, rotations, wait_s, compression)
        sys.stderr.write(describe(result) + "\n")
        results.append(result)
    return {
        "ok": all(ok(r) for r in results),
        "sizes": results,
        "envelope_bytes": ENVELOPE_BYTES,
        "envelope_chars": len(envelope()),
        "batch": BATCH,
        "rotations_per_size": rotations,
        "compression": "permessage-deflate offered" if compression else "none",
        "cores": os.cpu_count(),
        "clients": "plain WebSocket clients in the bench process (one event loop), same machine",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,100,200", help="participants (default 50,100,200)")
    parser.add_argument("--rotations", type=int, default=2, help="back to back (default 2)")
    parser.add_argument("--timeout", type=float, default=60, help="per rotation (default 60 s)")
    parser.add_argument("--no-compression", action="store_true", help="no permessage-deflate")
    args = parser.parse_args()
    require_test_network()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if any(n < 2 for n in sizes):
        parser.error("a meeting needs at least 2 participants")
    result = asyncio.run(bench(sizes, args.rotations, args.timeout, not args.no_compression))
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
