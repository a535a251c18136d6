"""The clients of bench/chat.py: members signed in over HTTP, each with a registered device and
one /ws/chat socket; the MLS messages carry real headers around random bytes, as
tests/support/chat.py makes them (the server reads only the headers).

The load runs in worker processes of their own, so that receiving does not delay sending:
``python bench/_chat_clients.py`` reads its members as one JSON line on stdin, opens their
sockets (hello, open), answers ``{"ready": n}``, then takes orders line by line: ``go`` (send
message i at t0 + i/rate from sender i mod S, those of the senders it holds), ``stop`` (write the
latencies to a file, answer ``done``). Every 0.1 s it reports its counts. Send times travel in
the client id (``<prefix><i>-<CLOCK_MONOTONIC ns>``, hex), and that clock is the same in every
process of the machine: a receiver computes send→receive latency alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sys
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

if __package__ in (None, ""):  # run as a worker: the repository's root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import chat as support

MEASURED = "m"  # client-id prefix of measured messages ("w": warm-up, not counted)
TIMEOUT = 30.0
SEND = '{"type":"send","room":"%s","id":"%s","message":"%s"}'
PING = '{"type":"ping"}'


@dataclass(frozen=True)
class Member:
    username: str
    cookie: str
    device: str


# --- set-up (in the bench process) -------------------------------------------------------------


async def bounded(jobs: list[Any], at_once: int) -> list[Any]:
    gate = asyncio.Semaphore(at_once)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def member(base: str, username: str) -> tuple[Member, httpx.AsyncClient]:
    # tests/support/chat.py's sign_in, with a longer timeout: concurrent sign-ins on SQLite
    # wait for each other's write lock (SQLite's busy handler sleeps)
    http = httpx.AsyncClient(base_url=base, timeout=TIMEOUT)
    signed = await http.post("/api/session", json={"username": username,
                                                   "password": support.PASSWORD})  # fmt: skip
    assert signed.status_code == 200, signed.text
    http.headers["x-csrf-token"] = signed.json()["csrf_token"]
    device = await support.register_device(http)
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    return Member(username, cookie, device), http


async def room_with(base: str, usernames: list[str]) -> tuple[str, list[Member]]:
    """A room of the first user's with all the others as members; everyone's device."""
    signed = await bounded([member(base, name) for name in usernames], 8)
    owner = signed[0][1]
    try:
        made = await owner.post("/api/rooms", json={"name": f"Bench {secrets.token_hex(3)}"})
        assert made.status_code == 201, made.text
        slug: str = made.json()["slug"]

        async def add(name: str) -> None:
            answer = await owner.put(f"/api/rooms/{slug}/roles/{name}", json={"role": "member"})
            assert answer.status_code in (200, 204), answer.text

        await bounded([add(name) for name in usernames[1:]], 8)
    finally:
        for _, http in signed:
            await http.aclose()
    return slug, [m for m, _ in signed]


async def open_socket(ws: str, who: Member, room: str) -> tuple[ClientConnection, int]:
    """A chat socket that said hello and opened ``room``: it and the room's last number."""
    socket = await connect(
        f"{ws}/ws/chat", additional_headers={"Cookie": who.cookie}, max_size=2**21,
        compression=None, ping_interval=None, open_timeout=TIMEOUT,
    )  # fmt: skip
    await socket.send(json.dumps({"type": "hello", "device": who.device}))
    await _expect(socket, "ready")
    await socket.send(json.dumps({"type": "open", "room": room}))
    group = await _expect(socket, "group")
    return socket, int(group["last_seq"])


async def _expect(socket: ClientConnection, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == kind:
                return dict(frame)
            if frame["type"] == "error":
                raise RuntimeError(f"chat refused: {frame}")


async def create_group(ws: str, who: Member, room: str) -> bytes:
    socket, _ = await open_socket(ws, who, room)
    group_id = f"rathaus-room:{room}:".encode() + secrets.token_bytes(16)
    info = support.b64(support.group_info(group_id, 0))
    await socket.send(json.dumps({"type": "create_group", "room": room, "id": support.new_id(),
                                  "group_info": info}))  # fmt: skip
    ack = await _expect(socket, "ack")
    assert ack["seq"] == 1, ack
    await socket.close()
    return group_id


# --- the load worker (a process of its own) ----------------------------------------------------


@dataclass
class Tally:
    latencies: array[int] = field(default_factory=lambda: array("q"))
    acks: array[int] = field(default_factory=lambda: array("q"))
    last_ns: int = 0
    duplicates: int = 0
    gaps: int = 0
    errors: list[str] = field(default_factory=list)
    closed: int = 0
    frozen: bool = False  # told to stop: what comes later is not counted


async def read(socket: ClientConnection, device: str, last: int, tally: Tally) -> None:
    """Everything one socket gets: measured messages of other devices timed, order checked."""
    try:
        async for frame in socket:
            now = time.monotonic_ns()
            assert isinstance(frame, str)
            if tally.frozen:
                continue
            if frame.startswith('{"type":"events"'):
                for event in json.loads(frame)["events"]:
                    seq = event["seq"]
                    if seq <= last:
                        tally.duplicates += 1
                        continue
                    tally.gaps += seq != last + 1
                    last = seq
                    client_id = event["id"]
                    if client_id[0] == MEASURED and event["device"] != device:
                        tally.latencies.append(now - int(client_id[client_id.index("-") + 1 :], 16))
                        tally.last_ns = now
            elif frame.startswith('{"type":"ack"'):
                client_id = json.loads(frame)["id"]
                if client_id[0] == MEASURED:
                    tally.acks.append(now - int(client_id[client_id.index("-") + 1 :], 16))
            elif frame.startswith('{"type":"error"') and len(tally.errors) < 1000:
                tally.errors.append(frame[:300])
    except Exception as exc:  # a socket closed by the server: reported, not fatal
        tally.errors.append(f"socket closed: {exc!r}"[:300])
    finally:
        tally.closed += 1


async def keep_alive(socket: ClientConnection) -> None:
    """A ping every 20 s, as the browser's client sends: the server closes a socket silent for
    60 s, and a receiver sends nothing else."""
    await asyncio.sleep(secrets.randbelow(20_000) / 1000)
    while True:
        await socket.send(PING)
        await asyncio.sleep(20)


async def send_all(
    senders: dict[int, tuple[ClientConnection, list[str]]], room: str, order: dict[str, Any]
) -> dict[str, Any]:
    """Message i at t0 + i/rate from sender i mod S: those whose sender this worker holds."""
    t0, rate, count, every = order["t0"], order["rate"], order["count"], order["senders"]
    prefix, sent, lag = order["prefix"], 0, 0
    for i in range(count):
        held = senders.get(i % every)
        if held is None:
            continue
        due = t0 + int(i * 1e9 / rate)
        ahead = due - time.monotonic_ns()
        if ahead > 0:
            await asyncio.sleep(ahead / 1e9)
        else:
            lag = max(lag, -ahead)
        socket, bodies = held
        now = time.monotonic_ns()
        await socket.send(SEND % (room, f"{prefix}{i:x}-{now:x}", bodies[i % len(bodies)]))
        sent += 1
    return {"sent": sent, "max_schedule_lag_ms": round(lag / 1e6, 1)}


def message_body(group_id: bytes) -> str:
    """A PrivateMessage of the group's epoch 0 around 100 random bytes (a short text), base64."""
    return support.b64(support.message(group_id, 0, secrets.token_bytes(100)))


async def stdin_lines() -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=2**24)
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def report(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def worker() -> None:
    orders = await stdin_lines()
    setup = json.loads(await orders.readline())
    room, group_id = setup["room"], bytes.fromhex(setup["group_id"])
    people = [(Member(**m["member"]), m["ws"], m.get("sender")) for m in setup["members"]]
    opened = await bounded([open_socket(ws, who, room) for who, ws, _ in people], 16)
    tally = Tally()
    readers = [
        asyncio.create_task(read(socket, who.device, last, tally))
        for (who, _, _), (socket, last) in zip(people, opened, strict=True)
    ] + [asyncio.create_task(keep_alive(socket)) for socket, _ in opened]
    senders = {
        sender: (socket, [message_body(group_id) for _ in range(64)])
        for (_, _, sender), (socket, _) in zip(people, opened, strict=True)
        if sender is not None
    }
    report({"ready": len(opened)})

    async def status() -> None:
        while True:
            report({"n": len(tally.latencies), "acks": len(tally.acks), "last": tally.last_ns})
            await asyncio.sleep(0.1)

    reporting = asyncio.create_task(status())
    while line := await orders.readline():
        order = json.loads(line)
        if order["do"] == "go":
            report({"sent": await send_all(senders, room, order)})
        elif order["do"] == "reset":
            tally.latencies, tally.acks, tally.last_ns = array("q"), array("q"), 0
        elif order["do"] == "stop":
            tally.frozen = True
            break
    out = Path(setup["out"])
    with (out.with_suffix(".lat")).open("wb") as f:
        tally.latencies.tofile(f)
    with (out.with_suffix(".ack")).open("wb") as f:
        tally.acks.tofile(f)
    reporting.cancel()
    report({"done": {"last": tally.last_ns, "duplicates": tally.duplicates, "gaps": tally.gaps,
                     "errors": len(tally.errors), "first_errors": tally.errors[:3],
                     "closed_early": tally.closed}})  # fmt: skip
    for socket, _ in opened:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(socket.close(), 5)
    for task in readers:
        task.cancel()


# --- the worker seen from the bench process ----------------------------------------------------


class Worker:
    """One worker process: its latest counts, what its sends did, and its results."""

    def __init__(self, proc: asyncio.subprocess.Process, out: Path) -> None:
        self.proc, self.out = proc, out
        self.counts: dict[str, int] = {"n": 0, "acks": 0, "last": 0}
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, setup: dict[str, Any], out: Path) -> Worker:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, limit=2**24,
        )  # fmt: skip
        worker = cls(proc, out)
        await worker.order({**setup, "out": str(out)})
        return worker

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            data = json.loads(line)
            if "n" in data:
                self.counts = data
            elif "sent" in data:
                self.sent.put_nowait(data["sent"])
            elif "ready" in data:
                self.ready.set_result(data["ready"])
            elif "done" in data:
                self.done.set_result(data["done"])
        for future in (self.ready, self.done):
            if not future.done():
                future.set_exception(RuntimeError("a chat worker ended early"))

    async def order(self, data: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(data).encode() + b"\n")
        await self.proc.stdin.drain()

    async def finish(self) -> tuple[dict[str, Any], array[int], array[int]]:
        """Its results, once told to stop (``order({"do": "stop"})``)."""
        done = await asyncio.wait_for(self.done, 60)
        await asyncio.wait_for(self.proc.wait(), 30)
        found = []
        for suffix in (".lat", ".ack"):
            values = array("q")
            path = self.out.with_suffix(suffix)
            values.frombytes(path.read_bytes())
            found.append(values)
        return done, found[0], found[1]

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


# --- idle sockets and history ----------------------------------------------------------------


class Idle:
    """A socket that said hello, opened the room, and then only reads and pings every 20 s."""

    def __init__(self) -> None:
        self.socket: ClientConnection | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def join(self, ws: str, who: Member, room: str) -> None:
        self.socket, _ = await open_socket(ws, who, room)
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._ping())]

    async def _read(self) -> None:
        assert self.socket is not None
        with contextlib.suppress(Exception):
            async for _ in self.socket:
                pass

    async def _ping(self) -> None:
        assert self.socket is not None
        await keep_alive(self.socket)

    @property
    def open(self) -> bool:
        return self.socket is not None and self.socket.state.name == "OPEN"

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close(), 10)


async def history_page(socket: ClientConnection, room: str, before: int) -> tuple[float, int]:
    """One ``history`` request: milliseconds until its page arrived, and the events in it."""
    started = time.perf_counter()
    await socket.send(json.dumps({"type": "history", "room": room, "before": before}))
    page = await _expect(socket, "events")
    return (time.perf_counter() - started) * 1000, len(page["events"])


def main() -> None:
    factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
    with contextlib.suppress(ImportError):  # less client CPU (the Synapse harness uses it too)
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(worker())


if __name__ == "__main__":
    main()
