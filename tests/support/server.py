"""Rathaus itself, started in the test's event loop on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from rathaus.app import create_app
from rathaus.config import Settings, load_settings
from rathaus.media.janus.supervisor import JanusSupervisor
from rathaus.services import Services
from rathaus.serving import uvicorn_options
from tests.support.network import JANUS_RTP_PORTS, MEDIA_IFACE


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # pytest owns the signals
        yield


@dataclass
class RunningServer:
    app: FastAPI
    settings: Settings
    port: int

    @property
    def services(self) -> Services:
        return services_of(self.app)

    @property
    def janus(self) -> JanusSupervisor:
        """The Janus this server manages (every test server but those with external nodes)."""
        supervisor = self.services.janus_supervisor
        assert supervisor is not None, "this server uses external Janus nodes"
        return supervisor

    @property
    def janus_pid(self) -> int:
        pid = self.janus.pid
        assert pid is not None, "Janus is not running"
        return pid

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def server_settings(data_dir: Path, **sections: dict[str, Any]) -> Settings:
    overrides: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": 0, "data_dir": str(data_dir)},
        "janus": {
            "ice_enforce_list": MEDIA_IFACE,
            "rtp_port_min": JANUS_RTP_PORTS[0],
            "rtp_port_max": JANUS_RTP_PORTS[1],
        },
        # Ad-hoc rooms explicitly on: tests that add accounts use a server of their own.
        "meeting": {
            "resume_grace": 2.0,
            "keepalive_timeout": 10.0,
            "adhoc_rooms": True,
            # Every test joins from 127.0.0.1; the limit has a test of its own.
            "join_attempts_per_minute": 100_000,
            # The bots cannot encrypt: tests of end-to-end encryption turn it on.
            "e2ee_required": False,
        },
        # Tests send bursts of chat messages; the limit has a test of its own.
        "chat": {"messages_per_second": 10_000, "burst": 10_000},
    }
    for name, values in sections.items():
        overrides[name] = {**overrides.get(name, {}), **values}
    return load_settings(environ={}, overrides=overrides)


@contextlib.asynccontextmanager
async def running_server(settings: Settings) -> AsyncIterator[RunningServer]:
    app = create_app(settings)
    # As `rathaus serve` (the same options, proxies trusted included), only quieter.
    config = uvicorn.Config(app, log_level="warning", **uvicorn_options(settings))
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server did not start")
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningServer(app, settings, port)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def shared_janus(server: RunningServer) -> dict[str, Any]:
    """Janus settings for a second Rathaus that uses ``server``'s managed Janus as an external
    node (a Janus start saved, and the external-node path tested on the way)."""
    supervisor = server.janus
    return {
        "nodes": [{"name": "shared", "url": supervisor.url, "api_secret": supervisor.api_secret}]
    }


def services_of(app: FastAPI) -> Services:
    found = app.state.services
    assert isinstance(found, Services)
    return found
