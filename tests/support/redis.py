"""A throwaway redis-server for the tests (Debian's ``redis-server`` package).

It listens on 127.0.0.1 on a free port, keeps nothing on disk (no RDB snapshots, no AOF) and
works in a temporary directory. :func:`start_redis` starts one; ``stop()`` and ``kill()`` end the
process (the fault tests), ``start()`` runs it again on the same port, ``destroy()`` removes it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BINARY = "/usr/bin/redis-server"
MISSING = (
    "redis-server is not installed: the event bus tests need Debian's redis-server package "
    "(`make test` installs it with the Makefile's TEST_DEBS via scripts/install-debian-packages.sh)"
)


class RedisUnavailable(RuntimeError):
    """The server cannot be started; the message says why in plain words."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_ping(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2) as sock:
        sock.settimeout(0.5)
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")
    return False


def command(sock: socket.socket, *args: bytes) -> bytes:
    """Send one command on a blocking socket and return the first line of the reply: for a
    test that must reach Redis before the event loop runs again."""
    sock.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    reply = b""
    while not reply.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("redis-server closed the connection")
        reply += chunk
    return reply.rstrip(b"\r\n")


class RedisServer:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.log = root / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start (again, on the same port) and wait until it answers PING."""
        # no config file: everything on the command line, nothing written but the log
        argv = [BINARY, "--port", str(self.port), "--bind", "127.0.0.1", "--protected-mode", "yes",
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", str(self.root), "--logfile", str(self.log)]  # fmt: skip
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisUnavailable(
                    f"redis-server exited with status {self.process.returncode}:\n{self._log()}"
                )
            if answers_ping(self.port):
                return
            time.sleep(0.01)
        raise RedisUnavailable(f"redis-server did not answer within {timeout} s:\n{self._log()}")

    def stop(self) -> None:
        """End the server the polite way (SIGTERM) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def kill(self) -> None:
        """End the server at once (SIGKILL), as a crash would: clients see their connection drop."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def destroy(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def _log(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""


def start_redis() -> RedisServer:
    """Start an empty redis-server on a free loopback port; ``destroy()`` removes it."""
    if not Path(BINARY).exists():
        raise RedisUnavailable(MISSING)
    server = RedisServer(Path(tempfile.mkdtemp(prefix="rathaus-redis-")), free_port())
    try:
        server.start()
    except BaseException:
        server.destroy()
        raise
    return server
