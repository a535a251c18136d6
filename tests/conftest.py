"""Shared fixtures: a real Rathaus with a real, managed Janus on free loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.bot import keep_media_on_loopback
from tests.support.postgres import PostgresUnavailable, start_cluster
from tests.support.redis import RedisUnavailable, start_redis
from tests.support.server import RunningServer, running_server, server_settings

# Support modules whose fixtures every test may use: janus_server, janus_factory, janus_client;
# oidc_provider; slapd.
pytest_plugins = ["tests.support.janus", "tests.support.oidc", "tests.support.slapd"]


@pytest.fixture(scope="session")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    """The embedded default: SQLite, and a Janus that Rathaus starts and supervises itself."""
    keep_media_on_loopback()
    async with running_server(server_settings(tmp_path_factory.mktemp("rathaus"))) as running:
        yield running


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session: ``postgresql+asyncpg://…/rathaus_test``."""
    try:
        cluster = start_cluster()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster.url
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throwaway redis-server for the session: ``redis://127.0.0.1:<port>/0``."""
    try:
        server = start_redis()
    except RedisUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server.url
    finally:
        server.destroy()
