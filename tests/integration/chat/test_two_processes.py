"""Two `rathaus serve` processes on one PostgreSQL and one Redis (the scale-out of
docs/operations.md): a message sent through process A arrives on a socket held by process B, in
order and exactly once, and a socket that reconnects to the other process catches up."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from rathaus.accounts.service import AccountService
from rathaus.config import AccountSettings
from rathaus.db.engine import create_engine, migrate, sessionmaker
from rathaus.media.janus.supervisor import free_port
from tests.support import chat
from tests.support.chat import ChatSocket
from tests.support.network import require_test_network
from tests.support.postgres import fresh_database
from tests.support.server import RunningServer


def config(data: Path, port: int, database: str, bus: str, janus: RunningServer) -> str:
    supervisor = janus.janus
    return f"""
[server]
data_dir = "{data}"
host = "127.0.0.1"
port = {port}

[database]
url = "{database}"

[bus]
url = "{bus}"

[[janus.nodes]]
name = "shared"
url = "{supervisor.url}"
api_secret = "{supervisor.api_secret}"

[chat]
messages_per_second = 10000
burst = 10000
"""


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database, migrated, with the accounts olga and mia."""
    url = await fresh_database(postgres_url)
    engine = create_engine(url)
    await migrate(engine)
    accounts = AccountService(sessionmaker(engine), AccountSettings())
    for name in ("olga", "mia"):
        await accounts.create_user(name, chat.PASSWORD, name.title())
    await engine.dispose()
    yield url


@pytest.fixture
def processes(
    tmp_path: Path, database: str, redis_url: str, server: RunningServer
) -> Iterator[list[str]]:
    """Two `rathaus serve`: their base URLs."""
    require_test_network()
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for name in ("a", "b"):
            home, port = tmp_path / name, free_port()
            home.mkdir()
            (home / "rathaus.toml").write_text(
                config(home / "data", port, database, redis_url, server)
            )
            with (home / "log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "rathaus", "serve"],
                        cwd=home,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"{url}/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = (tmp_path / ("a" if url == urls[0] else "b") / "log").read_text()
                    pytest.fail(f"rathaus serve did not start: {url}\n{output}")
                time.sleep(0.1)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def ws(url: str) -> str:
    return url.replace("http://", "ws://")


async def test_a_message_through_one_process_arrives_on_the_other_once_and_in_order(
    processes: list[str],
) -> None:
    a, b = processes
    olga = await chat.sign_in(a, "olga")
    mia = await chat.sign_in(b, "mia")  # the session is in the shared database
    slug = (await olga.post("/api/rooms", json={"name": "Beide"})).json()["slug"]
    added = await olga.put(f"/api/rooms/{slug}/roles/mia", json={"role": "member"})
    assert added.status_code == 204, added.text
    olga_socket = await ChatSocket.open(ws(a), olga, await chat.register_device(olga))
    mia_device = await chat.register_device(mia)
    mia_socket = await ChatSocket.open(ws(b), mia, mia_device)
    for socket in (olga_socket, mia_socket):
        await socket.send({"type": "open", "room": slug})
        await socket.next("group", room=slug)
    group_id = secrets.token_bytes(16)
    created = await olga_socket.request(
        {"type": "create_group", "room": slug, "group_info": chat.b64(chat.group_info(group_id, 0))}
    )
    assert created["seq"] == 1
    bodies = [secrets.token_bytes(16) for _ in range(200)]
    for body in bodies:
        sent = {"type": "send", "room": slug, "message": chat.b64(chat.message(group_id, 0, body))}
        assert (await olga_socket.request(sent))["type"] == "ack"
    arrived = await mia_socket.events(slug, 201, timeout=20)
    assert [e["seq"] for e in arrived] == list(range(1, 202))
    assert [chat.unb64(e["body"])[-16:] for e in arrived[1:]] == bodies
    assert not [f for f in mia_socket.frames if f.get("type") == "events"]  # nothing twice

    # Mia's socket drops; she comes back through process A and misses nothing.
    await mia_socket.close()
    for body in bodies[:30]:
        sent = {"type": "send", "room": slug, "message": chat.b64(chat.message(group_id, 0, body))}
        await olga_socket.request(sent)
    mia_a = await chat.sign_in(a, "mia")
    back = await ChatSocket.open(ws(a), mia_a, mia_device)
    await back.send({"type": "open", "room": slug, "after": 201})
    await back.next("group", room=slug)
    rest = await back.events(slug, 30)
    assert [e["seq"] for e in rest] == list(range(202, 232))
    for socket in (olga_socket, back):
        await socket.close()
    for http in (olga, mia, mia_a):
        await http.aclose()
