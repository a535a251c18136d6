"""A real coturn (Debian's turnserver) with the REST API shared secret, on the test network."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from rathaus.media.janus.supervisor import free_port
from tests.support.network import MEDIA_IP, TURN_RELAY_PORTS, require_test_network


@dataclass(frozen=True)
class Coturn:
    host: str
    port: int
    secret: str

    @property
    def url(self) -> str:
        return f"turn:{self.host}:{self.port}?transport=udp"


@contextlib.asynccontextmanager
async def running_coturn(work_dir: Path) -> AsyncIterator[Coturn]:
    require_test_network()
    binary = shutil.which("turnserver")
    if binary is None:
        raise RuntimeError("coturn is needed for the TURN tests: make test installs it")
    turn = Coturn(MEDIA_IP, free_port(MEDIA_IP), secrets.token_hex(16))
    log = (work_dir / "turnserver.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        binary,
        "--use-auth-secret",
        f"--static-auth-secret={turn.secret}",
        "--realm=rathaus.test",
        f"--listening-ip={turn.host}",
        f"--relay-ip={turn.host}",
        f"--listening-port={turn.port}",
        f"--min-port={TURN_RELAY_PORTS[0]}",
        f"--max-port={TURN_RELAY_PORTS[1]}",
        "--allow-loopback-peers",
        "--no-cli",
        "--no-tls",
        "--no-dtls",
        "--no-tcp-relay",
        "--no-software-attribute",
        f"--pidfile={work_dir / 'turnserver.pid'}",
        f"--userdb={work_dir / 'turndb'}",
        "--log-file=stdout",
        "--simple-log",
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await asyncio.sleep(0.5)  # turnserver has no readiness signal; it binds at once
        if process.returncode is not None:
            raise RuntimeError(f"turnserver exited: {(work_dir / 'turnserver.log').read_text()}")
        yield turn
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)
        log.close()
