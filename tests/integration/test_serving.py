"""Which client address Rathaus sees: the connection's, unless it comes from a reverse proxy
named in ``server.forwarded_allow_ips`` (then the X-Forwarded-For that proxy sets)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.server import RunningServer, running_server, server_settings, shared_janus

PASSWORD = "a long password 1"


async def sign_in(
    http: httpx.AsyncClient, username: str, forwarded_for: str, password: str = "wrong password"
) -> httpx.Response:
    return await http.post(
        "/api/session",
        json={"username": username, "password": password},
        headers={"x-forwarded-for": forwarded_for, "x-forwarded-proto": "https"},
    )


async def test_without_trusted_proxies_a_forged_address_is_ignored(
    server: RunningServer, tmp_path: Path
) -> None:
    settings = server_settings(
        tmp_path, janus=shared_janus(server), accounts={"max_failures": 3, "lockout_seconds": 60}
    )
    assert settings.server.forwarded_allow_ips == []  # the default
    async with (
        running_server(settings) as rathaus,
        httpx.AsyncClient(base_url=rathaus.http) as http,
    ):
        # Three failures under three names, each claiming another address: all of them count
        # for the connection's address, 127.0.0.1, which is then locked out.
        for n in range(3):
            failed = await sign_in(http, f"user{n}", f"203.0.113.{n + 1}")
            assert failed.status_code == 401 and failed.json()["code"] == "authentication_failed"
        locked = await sign_in(http, "someone-else", "198.51.100.7")
        assert locked.status_code == 429 and locked.json()["code"] == "locked"


async def test_a_trusted_proxy_gives_the_client_address(
    server: RunningServer, tmp_path: Path
) -> None:
    settings = server_settings(
        tmp_path,
        server={"forwarded_allow_ips": ["127.0.0.1"]},
        janus=shared_janus(server),
        accounts={"max_failures": 3, "lockout_seconds": 60},
    )
    async with (
        running_server(settings) as rathaus,
        httpx.AsyncClient(base_url=rathaus.http) as http,
    ):
        await rathaus.services.accounts.create_user("anna", PASSWORD)
        for n in range(3):
            failed = await sign_in(http, f"user{n}", "203.0.113.9")
            assert failed.status_code == 401 and failed.json()["code"] == "authentication_failed"
        locked = await sign_in(http, "someone-else", "203.0.113.9")
        assert locked.status_code == 429 and locked.json()["code"] == "locked"
        # Another client behind the same proxy has a lockout of its own: none.
        other = await sign_in(http, "anna", "203.0.113.10", PASSWORD)
        assert other.status_code == 200
        # The proxy's X-Forwarded-Proto is believed too: the session cookie is Secure.
        assert "secure" in other.headers["set-cookie"].lower()


async def test_without_trusted_proxies_the_scheme_is_the_connections(
    server: RunningServer, tmp_path: Path
) -> None:
    settings = server_settings(tmp_path, janus=shared_janus(server))
    async with (
        running_server(settings) as rathaus,
        httpx.AsyncClient(base_url=rathaus.http) as http,
    ):
        await rathaus.services.accounts.create_user("ben", PASSWORD)
        signed = await sign_in(http, "ben", "203.0.113.9", PASSWORD)
        assert signed.status_code == 200
        assert "secure" not in signed.headers["set-cookie"].lower()
