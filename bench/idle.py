"""Idle participants: the server's memory per signaling-only participant, and the CPU time of one
broadcast that reaches every one of them.

Run in the test network namespace (``make bench`` does)::

    ./scripts/in-test-network.sh .venv/bin/python bench/idle.py [--clients 2000] [--per-meeting 50]

Rathaus runs as a process of its own (``rathaus serve`` with its managed Janus, through
bench/load.py's ``rathaus_process``; ``meeting.e2ee_required`` off, since the clients cannot
encrypt, and ``meeting.join_attempts_per_minute`` raised, since they all come from 127.0.0.1).
The clients are plain ``websockets`` connections in this one process: no media, no aiortc. Each
sends ``join``, reads everything the server sends, and sends ``ping`` every 4 s (the protocol asks
for one at least every 5 s). The open-file limit of this process (which the server and its Janus
inherit) is raised with ``resource`` to hold all the sockets.

Memory: VmRSS of the rathaus process (and, apart, of its Janus) before any client, and again once
every client has joined and the server has settled (median of a few samples). A warm-up meeting of
two clients comes and goes before the baseline, so that what the first join loads once (code paths,
the first Janus session) is not counted per participant. KiB per participant = ΔRSS / clients.

Broadcast: in each round, one participant of every meeting sends ``media`` (camera toggled); the
server sends ``participant_updated`` to all in that meeting, the sender included, so a round
delivers one message to every client. Measured: the server's CPU time over the round (the sum of
its threads' run time from /proc/<pid>/task/*/schedstat, in ns; utime + stime from /proc/<pid>/stat
counts 10 ms ticks, too coarse for one round, and is given summed over the rounds as a check), from
just before the first ``media`` to the last ``participant_updated`` received, and that wall time.
The keepalives go on meanwhile; their share (the server's CPU per second while idle, times the
round's wall time) is given and subtracted in ``cpu_ms_net``. Median of ``--rounds`` rounds after
one unmeasured round.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import require_test_network, summary
from load import cpu_seconds, rathaus_process
from websockets.asyncio.client import ClientConnection, connect

PING_EVERY = 4.0  # seconds; the protocol wants a ping at least every 5 s
TARGET_KIB = 50  # issue 8: at most 50 KiB of server memory per idle participant
CONNECTING_AT_ONCE = 64
TIMEOUT = 30.0  # seconds for any one step (a join, a round)
SPARE_FILES = 512  # open files beyond the sockets (Python, SQLite, logs, Janus's own)


# --- /proc ---------------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def run_ns(pid: int) -> int:
    """Time on a CPU of all the process's threads, in ns (the first field of schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int((task / "schedstat").read_text().split()[0])
    return total


def open_fds(pid: int) -> int:
    return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())


def open_files_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return f"{soft}/{hard}"
    return "?"


def raise_open_files(needed: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE (children inherit it); the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:  # only root may raise the hard limit
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            return needed
        except (ValueError, OSError):
            sys.exit(f"{needed} open files needed, the hard limit is {hard}: raise it (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return needed


# --- the clients ---------------------------------------------------------------------------------


@dataclass
class Round:
    """One broadcast round: which participant sends which camera state, and who has got it."""

    number: int
    senders: dict[str, bool]  # participant id -> the video state it sends
    remaining: int
    done: asyncio.Event = field(default_factory=asyncio.Event)
    duplicates: int = 0
    last: float = 0.0


@dataclass
class Tally:
    """What all the clients have seen; one round at a time."""

    round: Round | None = None
    pongs: int = 0
    errors: list[str] = field(default_factory=list)
    closed: int = 0

    def updated(self, client: Client, text: str) -> None:
        current = self.round
        if current is None:
            return
        who = json.loads(text)["participant"]
        if current.senders.get(who["id"]) is not who["video"]:
            return
        if client.last_round == current.number:
            current.duplicates += 1
            return
        client.last_round = current.number
        current.remaining -= 1
        if current.remaining == 0:
            current.last = time.monotonic()
            current.done.set()


class Client:
    """A signaling-only participant: join, then read everything and ping every few seconds."""

    def __init__(self, url: str, name: str, tally: Tally) -> None:
        self.url, self.name, self.tally = url, name, tally
        self.ws: ClientConnection | None = None
        self.id = ""
        self.last_round = -1
        self._tasks: list[asyncio.Task[None]] = []

    async def join(self) -> None:
        self.ws = await connect(
            self.url, ping_interval=None, compression=None, open_timeout=TIMEOUT, max_size=2**20
        )
        await self.ws.send(json.dumps({"type": "join", "name": self.name}))
        async with asyncio.timeout(TIMEOUT):
            while True:
                message = json.loads(await self.ws.recv())
                if message["type"] == "welcome":
                    self.id = message["self"]["id"]
                    break
                if message["type"] == "error":
                    raise RuntimeError(f"{self.name}: join refused: {message}")
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._ping())]

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for text in self.ws:
                if not isinstance(text, str):
                    continue
                if "participant_updated" in text:  # parse only what the rounds look at
                    self.tally.updated(self, text)
                elif '"pong"' in text:
                    self.tally.pongs += 1
                elif '"error"' in text:
                    self.tally.errors.append(text[:200])
        finally:
            self.tally.closed += 1

    async def _ping(self) -> None:
        assert self.ws is not None
        await asyncio.sleep(random.uniform(0, PING_EVERY))  # spread the keepalives out
        while True:
            await self.ws.send('{"type":"ping"}')
            await asyncio.sleep(PING_EVERY)

    async def send_media(self, video: bool) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "media", "audio": False, "video": video}))

    async def close(self) -> None:
        for task in self._tasks[1:]:
            task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 10)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def bounded(jobs: Iterable[Awaitable[None]], at_once: int) -> None:
    gate = asyncio.Semaphore(at_once)

    async def one(job: Awaitable[None]) -> None:
        async with gate:
            await job

    await asyncio.gather(*(one(job) for job in jobs))


async def join_all(meetings: list[list[Client]]) -> float:
    """The first of each meeting one after the other (it creates the room, and its Janus session
    and room), then everyone else, a few dozen at a time; seconds taken."""
    t0 = time.monotonic()
    for first, *_ in meetings:
        await first.join()
    await bounded((c.join() for m in meetings for c in m[1:]), CONNECTING_AT_ONCE)
    return time.monotonic() - t0


# --- the measurements ----------------------------------------------------------------------------


async def settled_rss(pids: dict[str, int], seconds: float, samples: int = 5) -> dict[str, int]:
    """Median VmRSS (KiB) of each process over a few samples a second apart, the first after
    ``seconds``."""
    await asyncio.sleep(seconds)
    values: dict[str, list[int]] = {name: [] for name in pids}
    for i in range(samples):
        for name, pid in pids.items():
            values[name].append(rss_kib(pid))
        if i < samples - 1:
            await asyncio.sleep(1.0)
    return {name: int(statistics.median(v)) for name, v in values.items()}


async def idle_cpu(pid: int, seconds: float) -> float:
    """The server's CPU time per second (ms/s) while the clients only ping."""
    ns0, t0 = run_ns(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return (run_ns(pid) - ns0) / 1e6 / (time.monotonic() - t0)


async def broadcast_round(
    pid: int, meetings: list[list[Client]], tally: Tally, number: int
) -> dict[str, float]:
    video = number % 2 == 1  # everyone starts with video on: round 0 turns it off, round 1 on…
    senders = [m[0] for m in meetings]
    clients = sum(len(m) for m in meetings)
    current = Round(number, {s.id: video for s in senders}, remaining=clients)
    tally.round = current
    ticks0, ns0, own0, t0 = cpu_seconds(pid), run_ns(pid), run_ns(os.getpid()), time.monotonic()
    await asyncio.gather(*(s.send_media(video) for s in senders))
    try:
        await asyncio.wait_for(current.done.wait(), TIMEOUT)
    except TimeoutError:
        raise RuntimeError(
            f"round {number}: {current.remaining} of {clients} clients got no update"
        ) from None
    ns1, ticks1, own1 = run_ns(pid), cpu_seconds(pid), run_ns(os.getpid())
    tally.round = None
    return {
        "cpu_ms": (ns1 - ns0) / 1e6,
        "stat_cpu_ms": (ticks1 - ticks0) * 1000,
        "clients_cpu_ms": (own1 - own0) / 1e6,
        "wall_ms": (current.last - t0) * 1000,
        "duplicates": current.duplicates,
    }


async def broadcasts(
    pid: int, meetings: list[list[Client]], tally: Tally, rounds: int, idle_ms_per_s: float
) -> dict[str, Any]:
    clients = sum(len(m) for m in meetings)
    results = []
    for number in range(rounds + 1):  # round 0 is not measured
        result = await broadcast_round(pid, meetings, tally, number)
        if number:
            results.append(result)
        await asyncio.sleep(1.0)
    cpu = [r["cpu_ms"] for r in results]
    wall = [r["wall_ms"] for r in results]
    keepalive = [idle_ms_per_s * w / 1000 for w in wall]
    net = [c - k for c, k in zip(cpu, keepalive, strict=True)]
    return {
        "broadcasts_per_round": len(meetings),
        "messages_per_round": clients,
        "rounds": rounds,
        "cpu_ms": summary(cpu, 2),
        "keepalive_share_ms": summary(keepalive, 2),
        "cpu_ms_net": summary(net, 2),
        "us_per_message": round(statistics.median(cpu) * 1000 / clients, 2),
        "us_per_message_net": round(statistics.median(net) * 1000 / clients, 2),
        "wall_ms_until_all_arrived": summary(wall, 1),
        # this process (all the clients): near the wall time, the clients set the pace
        "clients_cpu_ms": summary([r["clients_cpu_ms"] for r in results], 1),
        "duplicates": int(sum(r["duplicates"] for r in results)),
        # the same CPU time from /proc/<pid>/stat (10 ms ticks), summed over the rounds
        "cpu_ms_sum": round(sum(cpu), 1),
        "stat_cpu_ms_sum": round(sum(r["stat_cpu_ms"] for r in results)),
    }


async def warm_up(ws: str) -> None:
    """A meeting of two that comes and goes: what the first join loads is not per participant."""
    pair = [Client(f"{ws}/ws/rooms/idle-warmup", f"Warm-up {i}", Tally()) for i in (1, 2)]
    for client in pair:
        await client.join()
    await asyncio.gather(*(c.close() for c in pair))
    await asyncio.sleep(2.0)


async def bench(clients_n: int, per_meeting: int, rounds: int, settle: float) -> dict[str, Any]:
    files = raise_open_files(clients_n + SPARE_FILES)
    meetings_n = -(-clients_n // per_meeting)
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="rathaus-idle-") as tmp:
        settings = {"RATHAUS_MEETING_JOIN_ATTEMPTS_PER_MINUTE": "100000"}
        async with rathaus_process(Path(tmp), settings) as server:
            pids = {"rathaus": server.pid, "janus": server.janus_pid}
            ws = f"ws://127.0.0.1:{server.port}"
            await asyncio.sleep(2.0)
            cold = {name: rss_kib(pid) for name, pid in pids.items()}
            await warm_up(ws)
            before = await settled_rss(pids, 0, 3)
            meetings = [
                [
                    Client(f"{ws}/ws/rooms/idle-{m:03d}", f"Idle {m}.{i}", tally)
                    for i in range(min(per_meeting, clients_n - m * per_meeting))
                ]
                for m in range(meetings_n)
            ]
            everyone = [c for m in meetings for c in m]
            try:
                join_s = await join_all(meetings)
                after = await settled_rss(pids, settle)
                idle_ms_per_s = await idle_cpu(server.pid, 10.0)
                rounds_out = await broadcasts(server.pid, meetings, tally, rounds, idle_ms_per_s)
                open_at_end = sum(c.ws is not None and c.ws.state.name == "OPEN" for c in everyone)
                closed_early = tally.closed
                server_files = open_files_limit(server.pid)
                server_fds = open_fds(server.pid)
            except BaseException:
                log = (Path(tmp) / "rathaus.log").read_text(errors="replace")
                sys.stderr.write("rathaus.log (end):\n" + log[-4000:] + "\n")
                raise
            finally:
                await bounded((c.close() for c in everyone), 256)
    delta = {name: after[name] - before[name] for name in pids}
    per_participant = delta["rathaus"] / clients_n
    return {
        "clients": clients_n,
        "meetings": meetings_n,
        "per_meeting": per_meeting,
        "memory": {
            "rathaus_kib_per_participant": round(per_participant, 1),
            "target_kib_per_participant": TARGET_KIB,
            "within_target": per_participant <= TARGET_KIB,
            "rathaus_kib_per_participant_from_cold": round(
                (after["rathaus"] - cold["rathaus"]) / clients_n, 1
            ),
            "janus_kib_per_meeting": round(delta["janus"] / meetings_n, 1),
            "rss_kib": {
                name: {"cold": cold[name], "before": before[name], "after": after[name]}
                for name in pids
            },
            "settle_seconds": settle,
        },
        "broadcast": rounds_out,
        "idle_cpu_ms_per_second": round(idle_ms_per_s, 2),
        "join_seconds": round(join_s, 1),
        "pongs_received": tally.pongs,
        "errors_received": len(tally.errors),
        "first_errors": tally.errors[:3],
        "sockets_open_at_end": open_at_end,
        "sockets_closed_early": closed_early,
        "server_open_fds": server_fds,
        "open_files_limit": {"bench": files, "rathaus": server_files},
        "ping_every_seconds": PING_EVERY,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000, help="participants (default 2000)")
    parser.add_argument("--per-meeting", type=int, default=50, help="meeting size (default 50)")
    parser.add_argument("--rounds", type=int, default=7, help="measured broadcasts (default 7)")
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds after the joins before RSS (default 10)"
    )
    args = parser.parse_args()
    require_test_network()
    started = time.monotonic()
    result = asyncio.run(bench(args.clients, args.per_meeting, args.rounds, args.settle))
    result["summary"] = {
        "rathaus_kib_per_idle_participant": result["memory"]["rathaus_kib_per_participant"],
        "target_kib": TARGET_KIB,
        "broadcast_to_all_cpu_ms": result["broadcast"]["cpu_ms"]["median"],
        "broadcast_us_per_message": result["broadcast"]["us_per_message"],
        "broadcast_wall_ms": result["broadcast"]["wall_ms_until_all_arrived"]["median"],
    }
    result["bench_seconds"] = round(time.monotonic() - started, 1)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
