"""A real coturn (Debian's turnserver) with the REST API shared secret, on the test network."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import socket
import struct
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


async def answers_stun(
    host: str, port: int, process: asyncio.subprocess.Process, timeout: float = 10
) -> bool:
    """Whether turnserver comes to answer a STUN Binding request on ``host:port`` (UDP) within
    ``timeout`` seconds: then it is listening. False if it exits first or never answers.

    Each attempt comes from a new socket: coturn keeps a session per client address, and one that
    it began while starting up can stay unanswered for seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while process.returncode is None and loop.time() < deadline:
        transaction = secrets.token_bytes(12)
        # A Binding request (RFC 5389): type 1, no attributes, the magic cookie, its id.
        request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + transaction
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.connect((host, port))
            with contextlib.suppress(OSError, TimeoutError):  # not bound yet: refused, or silence
                await loop.sock_sendall(sock, request)
                answer = await asyncio.wait_for(loop.sock_recv(sock, 2048), 0.2)
                if answer[8:20] == transaction:
                    return True
        await asyncio.sleep(0.05)
    return False


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
        if not await answers_stun(turn.host, turn.port, process):
            log_text = (work_dir / "turnserver.log").read_text()
            raise RuntimeError(f"turnserver did not start: {log_text}")
        yield turn
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)
        log.close()
