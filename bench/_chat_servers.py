"""The servers of bench/chat.py: ``rathaus serve`` processes with high chat limits, their
database prepared from here (accounts, a million stored events), PostgreSQL and Redis for the
scale-out, figures from /proc, and the Synapse peer run through its own harness
(``../shared/peers/synapse-chat``: setup.sh and bench.py, invoked as they are)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from _common import MEDIA_IFACE, ROOT
from load import cpu_seconds, free_port
from sqlalchemy import insert, update
from tests.support import chat as support
from tests.support.postgres import Cluster, fresh_database, start_cluster
from tests.support.redis import RedisServer, start_redis

from rathaus.accounts.service import AccountService
from rathaus.config import AccountSettings
from rathaus.db.engine import create_engine, migrate, sessionmaker
from rathaus.db.models import ChatEventRow, ChatGroupRow

RATHAUS = ROOT / ".venv" / "bin" / "rathaus"
CHAT_LIMIT = 1_000_000  # [chat] messages_per_second and burst: measure delivery, not the limit
INSERT_BATCH = 20_000


# --- /proc ---------------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of ``root`` and its direct children (a postmaster and its backends). Children
    that ended meanwhile are missed: the figure is a lower bound."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError):
            stat = (entry / "stat").read_text()
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            if int(entry.name) == root or parent == root:
                total += cpu_seconds(int(entry.name))
    return total


class Peak:
    """The largest VmRSS of some processes, sampled every 0.25 s while running."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.kib = dict.fromkeys(pids, 0)
        self._task = asyncio.get_running_loop().create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            for name, pid in self.pids.items():
                with contextlib.suppress(OSError):
                    self.kib[name] = max(self.kib[name], rss_kib(pid))
            await asyncio.sleep(0.25)

    async def stop(self) -> dict[str, float]:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return {name: round(kib / 1024, 1) for name, kib in self.kib.items()}


async def settled_rss_kib(pid: int, samples: int = 5) -> int:
    values = []
    for i in range(samples):
        values.append(rss_kib(pid))
        if i < samples - 1:
            await asyncio.sleep(1.0)
    return int(statistics.median(values))


# --- Rathaus --------------------------------------------------------------------------------------


@dataclass
class Rathaus:
    pid: int
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def sqlite_url(home: Path) -> str:
    """What ``[database] url = ""`` means for a data directory (rathaus.config.Settings)."""
    return f"sqlite+aiosqlite:///{(home / 'data').resolve() / 'rathaus.db'}"


def config(home: Path, port: int, database: str, bus: str) -> str:
    lines = [
        "[server]",
        f'data_dir = "{home / "data"}"',
        'host = "127.0.0.1"',
        f"port = {port}",
        "[chat]",
        f"messages_per_second = {CHAT_LIMIT}",
        f"burst = {CHAT_LIMIT}",
        "[janus]",  # managed, as `rathaus serve` has it by default; the chat needs none
        f'ice_enforce_list = "{MEDIA_IFACE}"',
    ]
    if database:
        lines += ["[database]", f'url = "{database}"']
    if bus:
        lines += ["[bus]", f'url = "{bus}"']
    return "\n".join(lines) + "\n"


async def prepare_database(url: str, usernames: list[str]) -> None:
    """The schema and the accounts, before any server runs (as an operator's import would)."""
    engine = create_engine(url)
    try:
        await migrate(engine)
        accounts = AccountService(sessionmaker(engine), AccountSettings())
        gate = asyncio.Semaphore(4)

        async def one(name: str) -> None:
            async with gate:
                await accounts.create_user(name, support.PASSWORD, name.title())

        await asyncio.gather(*(one(name) for name in usernames))
    finally:
        await engine.dispose()


def write_home(home: Path, toml: str) -> BinaryIO:
    home.mkdir(parents=True, exist_ok=True)
    (home / "rathaus.toml").write_text(toml)
    return (home / "rathaus.log").open("wb")


@contextlib.asynccontextmanager
async def rathaus_serve(home: Path, database: str = "", bus: str = "") -> AsyncIterator[Rathaus]:
    """``rathaus serve`` in ``home`` (its rathaus.toml there), stopped with SIGTERM."""
    port = free_port()
    log = write_home(home, config(home, port, database, bus))
    proc = await asyncio.create_subprocess_exec(
        str(RATHAUS), "--config", str(home / "rathaus.toml"), "serve",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=log, cwd=home,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not re.search(rb"Rathaus is running at http://\S+:\d+/", line):
            log.flush()
            raise RuntimeError(f"rathaus did not start: {(home / 'rathaus.log').read_text()}")
        yield Rathaus(proc.pid, port)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()


# --- PostgreSQL and Redis ---------------------------------------------------------------------


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.destroy()


def postmaster_pid(cluster: Cluster) -> int:
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


async def new_database(cluster: Cluster | None, home: Path) -> str:
    """A fresh database: a new one in the cluster, else SQLite in ``home``'s data directory."""
    if cluster is None:
        (home / "data").mkdir(parents=True, exist_ok=True)
        return sqlite_url(home)
    return await fresh_database(cluster.url)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    try:
        yield server
    finally:
        server.destroy()


# --- a million stored events -------------------------------------------------------------------


async def insert_events(url: str, room_id: int, device: str, user_id: int, count: int) -> float:
    """``count`` application messages after the group's first event (seq 2 …), written straight
    into chat_events in batches, and the group's last_seq moved past them; seconds taken."""
    bodies = [support.message(secrets.token_bytes(16), 0, secrets.token_bytes(100))
              for _ in range(256)]  # fmt: skip
    engine = create_engine(url)
    started = asyncio.get_running_loop().time()
    now = datetime.now(UTC)
    try:
        for first in range(2, count + 2, INSERT_BATCH):
            rows = [
                {
                    "room_id": room_id,
                    "seq": seq,
                    "kind": "message",
                    "epoch": 0,
                    "user_id": user_id,
                    "device_id": device,
                    "client_id": f"h{seq:011d}",
                    "body": bodies[seq % len(bodies)],
                    "created_at": now + timedelta(microseconds=seq),
                }
                for seq in range(first, min(first + INSERT_BATCH, count + 2))
            ]
            async with engine.begin() as connection:
                await connection.execute(insert(ChatEventRow), rows)
        async with engine.begin() as connection:
            await connection.execute(
                update(ChatGroupRow)
                .where(ChatGroupRow.room_id == room_id)
                .values(last_seq=count + 1, updated_at=now)
            )
    finally:
        await engine.dispose()
    return asyncio.get_running_loop().time() - started


async def room_and_user_ids(url: str, slug: str, username: str) -> tuple[int, int]:
    from sqlalchemy import select

    from rathaus.db.models import RoomRow, UserRow

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            room = await connection.scalar(select(RoomRow.id).where(RoomRow.slug == slug))
            user = await connection.scalar(select(UserRow.id).where(UserRow.username == username))
    finally:
        await engine.dispose()
    assert room is not None and user is not None
    return int(room), int(user)


# --- the Synapse peer -----------------------------------------------------------------------------

PEER = ROOT.parent / "shared" / "peers" / "synapse-chat"
SYNAPSE_VENV = Path(os.environ.get("VENV", "/tmp/synapse-venv"))


async def _run(argv: list[str], cwd: Path, env: dict[str, str], seconds: float) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), seconds)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
        return -1, out.decode(errors="replace") + "\n(timed out)"
    except BaseException:  # cancelled (SIGTERM): not left running
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace")


async def synapse_ready(peer: Path) -> str | None:
    """None when the peer's venv and config are in place (setup.sh without ``start``: installs
    matrix-synapse from PyPI if missing, which needs the network: run it once outside the test
    network namespace); else why not."""
    if not (peer / "setup.sh").exists():
        return f"no Synapse harness at {peer}"
    data = Path(f"/tmp/synapse-bench-probe-{os.getpid()}")
    env = {**os.environ, "DATA": str(data)}
    code, out = await _run(["bash", "setup.sh"], peer, env, 900)
    shutil.rmtree(data, ignore_errors=True)
    if code != 0:
        return (
            f"setup.sh failed ({code}): {out[-800:]} — run `bash {peer}/setup.sh` once "
            "outside the test network namespace (it installs matrix-synapse from PyPI)"
        )
    return None


async def synapse_rate(
    peer: Path, database: str, users: int, senders: int, rate: float, duration: float,
    drain: float,
) -> dict[str, Any]:  # fmt: skip
    """One run of the peer's bench.py on a fresh Synapse (new data dir, as its sweep.sh does)."""
    tag = f"{os.getpid()}-{secrets.token_hex(3)}"
    data, pgdata = Path(f"/tmp/synapse-bench-{tag}"), Path(f"/tmp/synapse-bench-pg-{tag}")
    env = {**os.environ, "DATA": str(data), "PGDATA": str(pgdata), "DB": database}
    try:
        code, out = await _run(["bash", "setup.sh", "start"], peer, env, 300)
        if code != 0:
            return {"server": "synapse", "error": f"setup.sh start failed: {out[-800:]}"}
        argv = [str(SYNAPSE_VENV / "bin" / "python"), "bench.py", "--users", str(users),
                "--senders", str(senders), "--rate", str(rate), "--duration", str(duration),
                "--drain", str(drain), "--pid-file", str(data / "synapse.pid")]  # fmt: skip
        if database == "postgres":
            argv += ["--db-pid-file", str(pgdata / "postmaster.pid")]
        code, out = await _run(argv, peer, env, duration + drain + 600)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if code != 0 or not lines:
            return {"server": "synapse", "error": f"bench.py failed ({code}): {out[-800:]}"}
        result: dict[str, Any] = json.loads(lines[-1])
        return result
    finally:
        await _run(["bash", "setup.sh", "stop"], peer, env, 120)
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(pgdata, ignore_errors=True)
