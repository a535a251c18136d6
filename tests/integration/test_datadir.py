"""The data directory is private: 0700; the database and every secret in it 0600, also when
they were there before with looser modes."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import RunningServer, running_server, server_settings, shared_janus


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def database_files(data: Path) -> list[Path]:
    return sorted(p for p in data.iterdir() if p.name.startswith("rathaus.db"))


@pytest.fixture
def no_umask() -> Iterator[None]:
    """Files made without an explicit mode would be world-readable (and writable)."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


async def test_a_new_data_directory_is_private(
    server: RunningServer, tmp_path: Path, no_umask: None
) -> None:
    data = tmp_path / "data"
    async with running_server(server_settings(data, janus=shared_janus(server))) as rathaus:
        async with httpx.AsyncClient(base_url=rathaus.http) as http:
            assert (await http.post("/api/rooms", json={"name": "Rat"})).status_code == 201
        assert mode(data) == 0o700
        files = database_files(data)
        names = {p.name for p in files}
        assert {"rathaus.db", "rathaus.db-wal", "rathaus.db-shm"} <= names  # WAL mode
        assert {p.name: mode(p) for p in files} == dict.fromkeys(names, 0o600)
        assert mode(data / "secret_key") == 0o600


async def test_a_loose_data_directory_is_tightened_at_start(tmp_path: Path) -> None:
    """As an older Rathaus, a copy or a restored backup may have left it."""
    data, janus = tmp_path / "data", tmp_path / "data" / "janus"
    janus.mkdir(parents=True)
    key = base64.b64encode(os.urandom(32))
    loose = {
        data / "secret_key": key,
        data / "rathaus.db": b"",
        janus / "api_secret": b"the-old-api-secret\n",
        janus / "admin_secret": b"the-old-admin-secret\n",
        janus / "janus.jcfg": b"",
        janus / "janus.transport.websockets.jcfg": b"",
    }
    for path, content in loose.items():
        path.write_bytes(content)
        path.chmod(0o644)
    for folder in (data, janus):
        folder.chmod(0o755)

    async with running_server(server_settings(data)) as rathaus:  # with a managed Janus
        assert rathaus.janus.api_secret == "the-old-api-secret"
        assert (data / "secret_key").read_bytes() == key  # kept, only its mode changed
        assert {str(p): mode(p) for p in (data, janus)} == dict.fromkeys(
            (str(data), str(janus)), 0o700
        )
        secrets = [*loose, *database_files(data), janus / "janus.plugin.videoroom.jcfg"]
        assert {str(p): mode(p) for p in secrets} == dict.fromkeys(map(str, secrets), 0o600)
