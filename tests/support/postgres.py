"""A throwaway PostgreSQL cluster for the test session (Debian's ``postgresql`` package).

The cluster lives in a temporary directory owned by the ``postgres`` system user (PostgreSQL
refuses to run as root), listens on 127.0.0.1 on a free port and on a unix socket inside that
directory, trusts loopback connections and skips fsync. :func:`start_cluster` starts one;
``Cluster.url`` is its SQLAlchemy URL and ``Cluster.destroy()`` removes everything.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

DATABASE = "rathaus_test"
SYSTEM_USER = "postgres"
TOOLS = ("initdb", "pg_ctl", "createdb")
MISSING = (
    "PostgreSQL is not installed: the database tests need Debian's postgresql package "
    "(`make test` installs it via scripts/install-debian-packages.sh postgresql)"
)


class PostgresUnavailable(RuntimeError):
    """The cluster cannot be started; the message says why in plain words."""


def find_bindir() -> Path:
    """The directory of ``initdb``, ``pg_ctl`` …: where PATH's initdb links to, or Debian's
    newest ``/usr/lib/postgresql/<version>/bin``."""
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PostgresUnavailable(MISSING)
    return candidates[-1].parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self, root: Path, bindir: Path, port: int) -> None:
        self.root = root
        self.bindir = bindir
        self.port = port
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "postgres.log"
        self._as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def run(self, tool: str, *args: str) -> None:
        command: Sequence[str] = [str(self.bindir / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        done = subprocess.run(
            command,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"{tool} failed with status {done.returncode}:\n{done.stdout}{done.stderr}{log}"
            )

    def start(self) -> None:
        self.sockets.mkdir()
        for path in (self.root, self.sockets):
            self._give_to_system_user(path)
        self.run(
            "initdb",
            f"--pgdata={self.data}",
            "--username=postgres",
            "--auth-local=trust",
            "--auth-host=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = {
            "listen_addresses": "127.0.0.1",
            "port": self.port,
            "unix_socket_directories": self.sockets,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        server_options = " ".join(f"-c {key}={value}" for key, value in options.items())
        self.run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                 "-o", server_options)  # fmt: skip
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DATABASE)

    def _give_to_system_user(self, path: Path) -> None:
        if self._as_root:
            user = pwd.getpwnam(SYSTEM_USER)
            os.chown(path, user.pw_uid, user.pw_gid)

    def destroy(self) -> None:
        """Stop the server (immediate mode: nothing to keep) and delete the cluster."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
                self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """Start a cluster with an empty database ``rathaus_test``; ``destroy()`` removes it."""
    bindir = find_bindir()
    missing = [tool for tool in TOOLS if not (bindir / tool).exists()]
    if missing:
        raise PostgresUnavailable(f"{', '.join(missing)} not found in {bindir}. {MISSING}")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PostgresUnavailable(
                f"there is no {SYSTEM_USER!r} system user to run PostgreSQL as ({MISSING})"
            ) from None
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="rathaus-pg-")), bindir, _free_port())
    try:
        cluster.start()
    except BaseException:
        cluster.destroy()
        raise
    return cluster


_databases = iter(range(1, 1_000_000))


async def fresh_database(session_url: str) -> str:
    """A new, empty database in the session's cluster (``postgres_url``): its SQLAlchemy URL."""
    import asyncpg  # the async driver, as the server uses it
    from sqlalchemy.engine.url import make_url

    url = make_url(session_url)
    name = f"rathaus_fresh_{os.getpid()}_{next(_databases)}"
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.set(database=name).render_as_string(hide_password=False)
