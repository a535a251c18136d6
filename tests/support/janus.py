"""A real, managed Janus (Debian's ``janus``) for tests, and its fixtures.

``tests/conftest.py`` registers this module as a plugin (``pytest_plugins``), so ``janus_server``,
``janus_factory`` and ``janus_client`` are fixtures of every test. Each Janus runs from a
temporary data directory, its API on a free loopback port.

Media stay on loopback addresses: the suite runs in the test network namespace (see
``tests/support/network.py``); Janus gathers on its 127.0.0.2 veth, aiortc is pinned to 127.0.0.2.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aioice.ice
import pytest
import pytest_asyncio

from rathaus.media.janus.client import JanusClient
from rathaus.media.janus.supervisor import JanusSupervisor
from tests.support.network import JANUS_RTP_PORTS, MEDIA_IFACE, MEDIA_IP, require_test_network

JANUS_BINARY = shutil.which("janus")


StartJanus = Callable[..., Awaitable[JanusSupervisor]]


def media_ip() -> str:
    """The loopback address of the test network that Janus and aiortc keep media on."""
    require_test_network()
    return MEDIA_IP


def pin_aioice(monkeypatch: pytest.MonkeyPatch, address: str | None = None) -> None:
    """Make aiortc gather host candidates on ``address`` (default :func:`media_ip`) only."""
    pinned = [address or media_ip()]

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return pinned

    monkeypatch.setattr(aioice.ice, "get_host_addresses", get_host_addresses)


async def start_janus(data_dir: Path, **options: object) -> JanusSupervisor:
    """Start a managed Janus in ``data_dir`` (free loopback API port, ICE pinned to
    :func:`media_ip`); the caller stops it."""
    media_ip()
    options.setdefault("ice_enforce_list", MEDIA_IFACE)
    options.setdefault("rtp_port_range", JANUS_RTP_PORTS)
    sup = JanusSupervisor(data_dir, **options)  # type: ignore[arg-type]
    await sup.start()
    return sup


@pytest_asyncio.fixture(scope="session")
async def janus_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[JanusSupervisor]:
    """One managed Janus shared by the session's tests (do not kill it: use ``janus_factory``)."""
    if JANUS_BINARY is None:
        pytest.fail("Debian's janus is needed: make test installs it", pytrace=False)
    sup = await start_janus(tmp_path_factory.mktemp("janus-shared"))
    try:
        yield sup
    finally:
        await sup.stop()


@pytest_asyncio.fixture
async def janus_factory(tmp_path: Path) -> AsyncIterator[StartJanus]:
    """``await janus_factory(**options)`` starts a private Janus, stopped after the test."""
    if JANUS_BINARY is None:
        pytest.fail("Debian's janus is needed: make test installs it", pytrace=False)
    started: list[JanusSupervisor] = []

    async def factory(**options: object) -> JanusSupervisor:
        sup = await start_janus(tmp_path / f"j{len(started)}", **options)
        started.append(sup)
        return sup

    try:
        yield factory
    finally:
        for sup in started:
            await sup.stop()


@pytest_asyncio.fixture
async def janus_client(janus_server: JanusSupervisor) -> AsyncIterator[JanusClient]:
    """A connected client to the shared Janus, closed after the test."""
    client = JanusClient(janus_server.url, janus_server.api_secret, request_timeout=5.0)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()
