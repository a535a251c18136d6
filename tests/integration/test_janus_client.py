"""JanusClient, JanusSupervisor and the VideoRoom helpers against a real Janus 1.1."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from rathaus.errors import JanusError, JanusTimeout, JanusUnavailable
from rathaus.media.janus import videoroom
from rathaus.media.janus.client import JanusClient
from rathaus.media.janus.core import HandleEvent
from rathaus.media.janus.pool import JanusNode, JanusPool
from rathaus.media.janus.supervisor import JanusSupervisor
from tests.support.janus import StartJanus
from tests.support.waits import quiet_for

pytestmark = pytest.mark.janus

VR = videoroom.PLUGIN


async def wait_for(predicate: Callable[[], bool]) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met within 10 s")


async def test_supervisor_config_and_info(
    janus_server: JanusSupervisor,
    janus_client: JanusClient,
) -> None:
    mode = stat.S_IMODE(os.stat(janus_server.dir / "api_secret").st_mode)
    assert mode == 0o600
    assert janus_server.port not in (8188, 8989)
    main = (janus_server.dir / "janus.jcfg").read_text()
    assert f'configs_folder = "{janus_server.dir}"' in main
    assert "libjanus_videoroom.so" not in main and "libjanus_websockets.so" not in main
    assert "broadcast = false" in main
    ws = (janus_server.dir / "janus.transport.websockets.jcfg").read_text()
    assert 'ws_ip = "127.0.0.1"' in ws and "wss = false" in ws and "admin_wss = false" in ws
    assert "admin_ws = true" in ws and 'admin_ws_ip = "127.0.0.1"' in ws  # loopback only
    info = await janus_client.info()
    assert info["version_string"] == "1.1.2"
    assert list(info["plugins"]) == [VR]
    assert list(info["transports"]) == ["janus.transport.websockets"]
    assert info["api_secret"] is True


async def test_wrong_secret_is_refused(janus_server: JanusSupervisor) -> None:
    client = JanusClient(janus_server.url, "wrong", request_timeout=5.0)
    await client.connect()
    try:
        with pytest.raises(JanusError) as err:
            await client.create_session()
        assert err.value.code == 403
    finally:
        await client.close()


async def test_room_lifecycle_and_errors(janus_client: JanusClient) -> None:
    events: list[HandleEvent] = []
    session = await janus_client.create_session()
    handle = await session.attach(VR, events.append)
    room = 1001
    assert await videoroom.create_room(handle, room, description="Rat") is True
    assert await videoroom.create_room(handle, room, exists_ok=True) is False
    with pytest.raises(JanusError) as err:
        await videoroom.create_room(handle, room)
    assert err.value.code == videoroom.ERROR_ROOM_EXISTS
    assert await videoroom.room_exists(handle, room)

    pub = await session.attach(VR)
    pid, others = await videoroom.join_publisher(pub, room, "Alice")
    assert isinstance(pid, int) and others == []
    participants = await videoroom.list_participants(handle, room)
    assert [(p["id"], p["display"]) for p in participants] == [(pid, "Alice")]

    with pytest.raises(JanusError) as err:
        await videoroom.join_publisher(await session.attach(VR), 999_999, "Bob")
    assert err.value.code == videoroom.ERROR_NO_SUCH_ROOM
    with pytest.raises(JanusError) as err:
        await session.attach("janus.plugin.nope")
    assert err.value.code == 460  # JANUS_ERROR_PLUGIN_NOT_FOUND

    await videoroom.destroy_room(handle, room)
    assert not await videoroom.room_exists(handle, room)
    await videoroom.destroy_room(handle, room)  # missing_ok

    await session.destroy()
    assert not session.alive and not handle.alive and not pub.alive
    with pytest.raises(JanusUnavailable):
        await handle.request({"request": "list"})
    await session.destroy()  # idempotent


async def test_keepalive(janus_server: JanusSupervisor) -> None:
    client = JanusClient(janus_server.url, janus_server.api_secret, keepalive_interval=0.1)
    await client.connect()
    try:
        session = await client.create_session()
        await quiet_for(0.5)  # five keepalives: the session does not end meanwhile
        assert session.alive
        handle = await session.attach(VR)
        assert await videoroom.room_exists(handle, 4242) is False
        await session.destroy()
    finally:
        await client.close()


async def test_crash_restart_reconnect(janus_factory: StartJanus) -> None:
    sup = await janus_factory()
    client = JanusClient(sup.url, sup.api_secret, request_timeout=1.0)
    downs: list[bool] = []
    ups: list[bool] = []

    def broken() -> None:
        raise RuntimeError("listener bug must not break the client")

    client.add_listener(broken, broken)
    client.add_listener(lambda: downs.append(True), lambda: ups.append(True))
    await client.connect()
    try:
        assert ups == [True]
        session = await client.create_session()
        handle = await session.attach(VR)
        old_pid = sup.pid
        assert old_pid is not None

        # A frozen Janus: the request times out.
        os.kill(old_pid, signal.SIGSTOP)
        with pytest.raises(JanusTimeout):
            await client.info()
        # A request pending when Janus dies fails at once with JanusUnavailable.
        pending = asyncio.create_task(handle.request({"request": "list"}))
        await wait_for(lambda: bool(client._pending))  # the request is out, unanswered
        os.kill(old_pid, signal.SIGKILL)
        with pytest.raises(JanusUnavailable) as err:
            await pending
        assert not isinstance(err.value, JanusTimeout)
        await wait_for(lambda: downs == [True])
        assert not client.connected
        assert not session.alive and not handle.alive
        with pytest.raises(JanusUnavailable):
            await client.info()

        # The supervisor restarts Janus on the same port; the client reconnects.
        await wait_for(lambda: ups == [True, True])
        assert client.connected
        # The client may be back before the supervisor has counted the restart (it waits for
        # the new Janus to answer, and the client reconnects as soon as it does).
        await wait_for(lambda: sup.restarts == 1)
        assert sup.pid not in (None, old_pid)
        session2 = await client.create_session()
        handle2 = await session2.attach(VR)
        assert await videoroom.create_room(handle2, 7, description="after crash")
        await session2.destroy()
    finally:
        await client.close()


async def test_start_failure_reports_log(tmp_path: Path) -> None:
    sup = JanusSupervisor(tmp_path, binary="/bin/false")
    with pytest.raises(JanusUnavailable, match="exited"):
        await sup.start()
    await sup.stop()


async def test_pool_picks_least_loaded(janus_factory: StartJanus) -> None:
    a = await janus_factory()
    b = await janus_factory()
    pool = JanusPool([JanusNode("a", a.url, a.api_secret), JanusNode("b", b.url, b.api_secret)])
    await pool.start()
    try:
        ca, cb = pool.clients["a"], pool.clients["b"]
        assert pool.pick() is ca
        pool.acquire(ca)
        assert pool.pick() is cb
        pool.acquire(cb)
        pool.acquire(cb)
        assert pool.pick() is ca
        await b.stop()
        await wait_for(lambda: not cb.connected)
        pool.release(ca)
        pool.release(cb)
        assert pool.pick() is ca
        await a.stop()
        await wait_for(lambda: not ca.connected)
        with pytest.raises(JanusUnavailable):
            pool.pick()
    finally:
        await pool.close()
