"""Signing in to Rathaus through the city's OpenID provider and through its LDAP directory."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx

from rathaus.errors import ErrorCode
from rathaus.media.janus.supervisor import free_port
from tests.support.bot import Bot
from tests.support.http import assert_refused
from tests.support.oidc import running_oidc_provider, sign_in_at_provider
from tests.support.server import RunningServer, running_server, server_settings, shared_janus
from tests.support.slapd import Slapd


async def test_openid_connect_sign_in(server: RunningServer, tmp_path: Path) -> None:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/auth/oidc/callback"
    async with running_oidc_provider(tmp_path, redirect_uris=(callback,)) as provider:
        oidc = provider.settings("basic").model_dump(mode="json")
        oidc["client_secret"] = provider.clients["basic"].client_secret
        settings = server_settings(
            tmp_path / "rathaus",
            server={"port": port},
            oidc=oidc,
            janus=shared_janus(server),
            meeting={"adhoc_rooms": None},
        )
        async with (
            running_server(settings) as rathaus,
            httpx.AsyncClient(base_url=rathaus.http) as browser,
        ):
            methods = (await browser.get("/api/auth/methods")).json()
            assert methods == {"password": False, "oidc": True}
            assert (await browser.get("/r/adhoc-now-off")).status_code == 404  # sign-in exists

            start = await browser.get("/auth/oidc/start", params={"next": "/r/team?lang=en"})
            assert start.status_code == 303 and "rathaus_oidc" in start.headers["set-cookie"]
            params = await sign_in_at_provider(start.headers["location"], "anna", callback)
            done = await browser.get("/auth/oidc/callback", params=params)
            assert done.status_code == 303 and done.headers["location"] == "/r/team?lang=en"
            me = (await browser.get("/api/session")).json()["user"]
            assert (me["username"], me["display_name"], me["role"]) == (
                "anna",
                "Anna Schmidt",
                "member",
            )

            # The session works for the meeting too: Anna joins as a member.
            owner = await rathaus.services.accounts.create_user("olga", "a long password 1")
            await rathaus.services.rooms.create("Team", "team", owner_id=owner.id)
            bot = Bot(
                rathaus.ws,
                "team",
                "Anna",
                cookies={"rathaus_session": browser.cookies["rathaus_session"]},
            )
            try:
                assert (await bot.join())["self"]["role"] == "member"
            finally:
                await bot.close()

            # Refused at the provider: back to the page with a reason, no session.
            async with httpx.AsyncClient(base_url=rathaus.http) as other:
                start = await other.get("/auth/oidc/start", params={"next": "//evil.test/x"})
                params = await sign_in_at_provider(start.headers["location"], None, callback)
                refused = await other.get("/auth/oidc/callback", params=params)
                location = refused.headers["location"]
                assert urlsplit(location).netloc == ""  # never off-site
                assert location == "/?signin_error=authentication_failed"
                assert_refused(await other.get("/api/session"), 401, ErrorCode.NOT_SIGNED_IN)
                # A callback that was not started here.
                forged = await other.get("/auth/oidc/callback", params=params)
                assert_refused(forged, 401, ErrorCode.AUTHENTICATION_FAILED)


async def test_ldap_sign_in(server: RunningServer, tmp_path: Path, slapd: Slapd) -> None:
    ldap = {
        "url": slapd.url,
        "base_dn": slapd.people_dn,
        "bind_dn": slapd.service_dn,
        "bind_password": slapd.service_password,
    }
    settings = server_settings(tmp_path, ldap=ldap, janus=shared_janus(server))
    async with (
        running_server(settings) as rathaus,
        httpx.AsyncClient(base_url=rathaus.http) as browser,
    ):
        assert (await browser.get("/api/auth/methods")).json()["password"] is True
        wrong = await browser.post("/api/session", json={"username": "anna", "password": "nope"})
        assert_refused(wrong, 401, ErrorCode.AUTHENTICATION_FAILED)
        signed = await browser.post(
            "/api/session", json={"username": "anna", "password": slapd.passwords["anna"]}
        )
        assert signed.status_code == 200
        assert signed.json()["user"]["display_name"] == "Anna Schmidt"
        users = await rathaus.services.accounts.list_users()
        assert [(u.username, u.provider) for u in users] == [("anna", "ldap")]
