"""Run Janus as a child process: generate its configuration, start it, restart it when it dies.

The generated configuration (in ``<data_dir>/janus/``) enables only the VideoRoom plugin and the
plain WebSocket transport, listening on a loopback address and a port of our own (never Janus's
well-known 8188: Debian may run a system Janus there). Every request needs the API secret, which is
generated once and kept in ``<data_dir>/janus/api_secret`` (mode 0600).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import secrets
import signal
import socket
import time
from collections import deque
from pathlib import Path

from rathaus.errors import JanusUnavailable

PR_SET_PDEATHSIG = 1  # linux/prctl.h
logger = logging.getLogger(__name__)

LIB_DIR = Path("/usr/lib/x86_64-linux-gnu/janus")
KEEP_PLUGINS = {"libjanus_videoroom.so"}
KEEP_TRANSPORTS = {"libjanus_websockets.so"}
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
RESTART_MIN, RESTART_MAX, RESTART_RESET_AFTER = 0.5, 10.0, 60.0
LOG_MAX_BYTES = 10 * 1024 * 1024


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _libs(folder: Path) -> list[str]:
    """Every Janus module in ``folder`` (``libjanus_*.so``), sorted."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob("libjanus_*.so"))


def _jstr(value: str) -> str:
    """A libconfig string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read_or_create_secret(path: Path) -> str:
    if path.exists():
        os.chmod(path, 0o600)  # tightened, should it have been given a looser mode
        value = path.read_text().strip()
        if value:
            return value
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return value


class JanusSupervisor:
    """Owns one Janus child process on ``host:port`` with a generated configuration."""

    def __init__(
        self,
        data_dir: Path,
        *,
        binary: str = "janus",
        host: str = "127.0.0.1",
        port: int | None = None,
        rtp_port_range: tuple[int, int] = (20000, 40000),
        ice_enforce_list: str | None = None,
        nat_1_1: str | None = None,
        stun: str | None = None,
        session_timeout: int = 60,
        debug_level: int = 4,
        lib_dir: Path = LIB_DIR,
    ) -> None:
        if not host.startswith("127.") and host not in ("::1", "localhost"):
            raise ValueError("the Janus API must listen on a loopback address")
        self.dir = Path(data_dir) / "janus"
        self.binary = binary
        self.host = host
        self.port = port
        self.rtp_port_range = rtp_port_range
        self.ice_enforce_list = ice_enforce_list
        self.nat_1_1 = nat_1_1
        self.stun = stun
        self.session_timeout = session_timeout
        self.debug_level = min(debug_level, 4)
        self.lib_dir = lib_dir
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False
        self._api_secret: str | None = None
        self._admin_secret: str | None = None
        # The Admin API (sessions, handles, their state), on loopback beside the Janus API: for
        # `rathaus doctor`-style checks and the tests that prove nothing leaks.
        self.admin_port: int | None = None

    # --- public API ---------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    @property
    def api_secret(self) -> str:
        if self._api_secret is None:
            raise RuntimeError("Janus has not been configured")
        return self._api_secret

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("Janus has not been started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}/"

    @property
    def admin_url(self) -> str:
        if self.admin_port is None:
            raise RuntimeError("Janus has not been started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.admin_port}/"

    @property
    def admin_secret(self) -> str:
        if self._admin_secret is None:
            raise RuntimeError("Janus has not been configured")
        return self._admin_secret

    @property
    def log_path(self) -> Path:
        return self.dir / "janus.log"

    async def start(self) -> tuple[str, str]:
        """Write the configuration, start Janus and wait until its API accepts connections.

        Returns ``(ws url, api secret)``. Raises :class:`JanusUnavailable` (with the end of the
        log) when Janus does not come up within 15 s.
        """
        if self._watch is not None:
            raise RuntimeError("already started")
        self._stopping = False
        if self.port is None:
            self.port = free_port(self.host)
        if self.admin_port is None:
            self.admin_port = free_port(self.host)
        self.write_config()
        if self.log_path.exists():  # one log per start; the previous one is kept as janus.log.1
            self.log_path.replace(self.log_path.with_suffix(".log.1"))
        await self._spawn()
        self._watch = asyncio.create_task(self._watch_loop(), name="janus-supervisor")
        assert self._api_secret is not None
        return self.url, self._api_secret

    async def stop(self) -> None:
        """Terminate Janus (SIGTERM, then SIGKILL after 5 s) and stop watching it."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await self._terminate()

    # --- configuration ------------------------------------------------------------------------

    def write_config(self) -> Path:
        """Write the ``*.jcfg`` files; return the path of ``janus.jcfg``."""
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self._api_secret = _read_or_create_secret(self.dir / "api_secret")
        admin_secret = self._admin_secret = _read_or_create_secret(self.dir / "admin_secret")
        main = self.dir / "janus.jcfg"
        self._write(main, self._main_config(self._api_secret, admin_secret))
        self._write(self.dir / "janus.transport.websockets.jcfg", self._ws_config())
        self._write(self.dir / "janus.plugin.videoroom.jcfg", "general: {\n}\n")
        return main

    @staticmethod
    def _write(path: Path, text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # the mode of os.open applies only to a new file
        with os.fdopen(fd, "w") as f:
            f.write(text)

    def _main_config(self, api_secret: str, admin_secret: str) -> str:
        lib = self.lib_dir
        plugins = [p for p in _libs(lib / "plugins") if p not in KEEP_PLUGINS]
        transports = [t for t in _libs(lib / "transports") if t not in KEEP_TRANSPORTS]
        loggers = _libs(lib / "loggers")
        events = _libs(lib / "events")
        lo, hi = self.rtp_port_range
        nat = [f"\tice_ignore_list = {_jstr('vmnet')}"]
        if self.ice_enforce_list:
            nat.append(f"\tice_enforce_list = {_jstr(self.ice_enforce_list)}")
        if self.nat_1_1:
            nat.append(f"\tnat_1_1_mapping = {_jstr(self.nat_1_1)}")
        if self.stun:
            stun_host, _, stun_port = self.stun.partition(":")
            nat.append(f"\tstun_server = {_jstr(stun_host)}")
            nat.append(f"\tstun_port = {int(stun_port or 3478)}")

        def disable(names: list[str]) -> str:
            return f"\tdisable = {_jstr(','.join(names))}\n" if names else ""

        return (
            "general: {\n"
            f"\tconfigs_folder = {_jstr(str(self.dir))}\n"
            f"\tplugins_folder = {_jstr(str(lib / 'plugins'))}\n"
            f"\ttransports_folder = {_jstr(str(lib / 'transports'))}\n"
            f"\tevents_folder = {_jstr(str(lib / 'events'))}\n"
            f"\tloggers_folder = {_jstr(str(lib / 'loggers'))}\n"
            "\tlog_to_stdout = true\n"
            f"\tdebug_level = {self.debug_level}\n"
            "\tdebug_timestamps = true\n"
            "\tdebug_colors = false\n"
            '\tserver_name = "rathaus"\n'
            f"\tsession_timeout = {self.session_timeout}\n"
            f"\tapi_secret = {_jstr(api_secret)}\n"
            f"\tadmin_secret = {_jstr(admin_secret)}\n"
            "\thide_dependencies = true\n"
            "}\n"
            "certificates: {\n}\n"
            "media: {\n"
            f"\trtp_port_range = {_jstr(f'{lo}-{hi}')}\n"
            "}\n"
            "nat: {\n" + "\n".join(nat) + "\n}\n"
            "plugins: {\n" + disable(plugins) + "}\n"
            "transports: {\n" + disable(transports) + "}\n"
            "loggers: {\n" + disable(loggers) + "}\n"
            "events: {\n\tbroadcast = false\n" + disable(events) + "}\n"
        )

    def _ws_config(self) -> str:
        return (
            "general: {\n"
            '\tjson = "compact"\n'
            "\tws = true\n"
            f"\tws_port = {self.port}\n"
            f"\tws_ip = {_jstr(self.host)}\n"
            "\twss = false\n"
            "}\n" + self._admin_config() + "cors: {\n}\ncertificates: {\n}\n"
        )

    def _admin_config(self) -> str:
        if self.admin_port is None:
            return "admin: {\n\tadmin_ws = false\n\tadmin_wss = false\n}\n"
        return (
            "admin: {\n"
            "\tadmin_ws = true\n"
            f"\tadmin_ws_port = {self.admin_port}\n"
            f"\tadmin_ws_ip = {_jstr(self.host)}\n"
            "\tadmin_wss = false\n"
            "}\n"
        )

    # --- process management -------------------------------------------------------------------

    def _open_log(self) -> int:
        log = self.log_path
        if log.exists() and log.stat().st_size > LOG_MAX_BYTES:
            log.replace(log.with_suffix(".log.1"))
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        return os.open(log, flags, 0o600)

    async def _spawn(self) -> None:
        fd = self._open_log()
        try:
            self._proc = await asyncio.create_subprocess_exec(
                self.binary,
                "-C",
                str(self.dir / "janus.jcfg"),
                "-F",
                str(self.dir),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=fd,
                stderr=fd,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            os.close(fd)
        logger.info("started Janus (pid %s)", self._proc.pid)
        try:
            await self._wait_ready(self._proc)
        except BaseException:
            await self._terminate()
            raise

    async def _wait_ready(self, proc: asyncio.subprocess.Process) -> None:
        assert self.port is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.returncode is not None:
                raise JanusUnavailable(
                    f"Janus exited with status {proc.returncode} while starting:\n{self.log_tail()}"
                )
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise JanusUnavailable(
                        f"Janus did not listen on port {self.port} within {START_TIMEOUT:g} s:\n"
                        f"{self.log_tail()}"
                    ) from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    def log_tail(self, lines: int = 30) -> str:
        try:
            with self.log_path.open(errors="replace") as f:
                return "".join(deque(f, maxlen=lines))
        except OSError:
            return "(no log)"

    async def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
                except TimeoutError:
                    logger.warning("Janus ignored SIGTERM; killing it")
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
        finally:
            _close_transport(proc)

    async def _watch_loop(self) -> None:
        delay = RESTART_MIN
        while True:
            proc = self._proc
            assert proc is not None
            started = time.monotonic()
            status = await proc.wait()
            _close_transport(proc)
            if self._stopping:
                return
            if time.monotonic() - started >= RESTART_RESET_AFTER:
                delay = RESTART_MIN
            logger.warning("Janus exited with status %s; restarting in %.1f s", status, delay)
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESTART_MAX)
                try:
                    await self._spawn()
                except (JanusUnavailable, OSError) as exc:
                    logger.error("restarting Janus failed: %s", exc.__class__.__name__)
                    continue
                self.restarts += 1
                break


def _close_transport(proc: asyncio.subprocess.Process) -> None:
    """Close the subprocess transport so it is not reported as unclosed (ResourceWarning)."""
    transport = getattr(proc, "_transport", None)
    if transport is not None:
        transport.close()


def _die_with_parent() -> None:
    """In the child before exec: Linux sends Janus SIGTERM when Rathaus dies, even by SIGKILL,
    so that no managed Janus outlives its supervisor."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
