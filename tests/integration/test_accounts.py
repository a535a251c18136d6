"""Local accounts: sign-in, sessions in cookies, CSRF, lockout, sign-out everywhere."""

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from rathaus.accounts.service import AccountService
from rathaus.config import AccountSettings
from rathaus.errors import ErrorCode
from tests.support.http import assert_refused
from tests.support.server import RunningServer, running_server, server_settings, shared_janus
from tests.support.waits import lapse

PASSWORD = "correct horse battery"


@pytest.fixture
async def accounts_server(server: RunningServer, tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A Rathaus with ad-hoc rooms left to the default, on the shared Janus."""
    settings = server_settings(
        tmp_path,
        meeting={"adhoc_rooms": None},
        janus=shared_janus(server),
        accounts={"max_failures": 3, "lockout_seconds": 1.0},
    )
    async with running_server(settings) as running:
        yield running


def client(server: RunningServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.http)


async def sign_in(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/session", json={"username": username, "password": password})


async def test_ad_hoc_rooms_end_once_accounts_exist(accounts_server: RunningServer) -> None:
    async with client(accounts_server) as http:
        assert (await http.get("/r/before-accounts")).status_code == 200
        assert (await http.post("/api/rooms", json={"name": "Offen"})).status_code == 201
        await accounts_server.services.accounts.create_user("anna", PASSWORD, "Anna")
        assert (await http.get("/r/after-accounts")).status_code == 404
        refused = await http.post("/api/rooms", json={"name": "Anonym"})
        assert refused.status_code == 401 and refused.json()["code"] == "not_signed_in"


async def test_sign_in_session_cookie_and_csrf(accounts_server: RunningServer) -> None:
    await accounts_server.services.accounts.create_user("ben", PASSWORD, "Ben Bauer")
    async with client(accounts_server) as http:
        wrong = await sign_in(http, "ben", "wrong password!")
        assert wrong.status_code == 401 and wrong.json()["code"] == "authentication_failed"
        unknown = await sign_in(http, "nobody", PASSWORD)
        assert unknown.json()["message"] == wrong.json()["message"]  # does not say who exists

        signed = await sign_in(http, "BEN", PASSWORD)
        assert signed.status_code == 200
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        csrf = signed.json()["csrf_token"]
        me = await http.get("/api/session")
        assert me.json()["user"] == {
            "id": me.json()["user"]["id"],
            "username": "ben",
            "display_name": "Ben Bauer",
            "role": "member",
        }

        no_token = await http.post("/api/rooms", json={"name": "Bauausschuss"})
        assert no_token.status_code == 403 and no_token.json()["code"] == "csrf"
        other_site = await http.post(
            "/api/rooms",
            json={"name": "Bauausschuss"},
            headers={"x-csrf-token": csrf, "origin": "http://evil.test"},
        )
        assert_refused(other_site, 403, ErrorCode.CSRF)
        created = await http.post(
            "/api/rooms", json={"name": "Bauausschuss"}, headers={"x-csrf-token": csrf}
        )
        assert created.status_code == 201

        assert_refused(await http.delete("/api/session"), 403, ErrorCode.CSRF)  # CSRF here too
        assert (
            await http.delete("/api/session", headers={"x-csrf-token": csrf})
        ).status_code == 204
        assert_refused(await http.get("/api/session"), 401, ErrorCode.NOT_SIGNED_IN)


async def test_sign_in_from_another_site_is_refused(accounts_server: RunningServer) -> None:
    await accounts_server.services.accounts.create_user("cara", PASSWORD)
    async with client(accounts_server) as http:
        response = await http.post(
            "/api/session",
            json={"username": "cara", "password": PASSWORD},
            headers={"origin": "http://evil.test"},
        )
        assert_refused(response, 403, ErrorCode.CSRF)
        assert "set-cookie" not in response.headers


async def test_guesses_sent_at_once_are_counted_one_after_another(
    accounts_server: RunningServer,
) -> None:
    await accounts_server.services.accounts.create_user("gert", PASSWORD)
    async with client(accounts_server) as http:
        answers = await asyncio.gather(*(sign_in(http, "gert", f"guess {n}") for n in range(6)))
    codes = sorted(answer.json()["code"] for answer in answers)
    assert codes == ["authentication_failed"] * 3 + ["locked"] * 3  # 3 failures, then locked


async def test_repeated_failures_lock_out_for_a_while(
    accounts_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    await accounts_server.services.accounts.create_user("dora", PASSWORD)
    async with client(accounts_server) as http:
        with caplog.at_level(logging.INFO):
            for _ in range(3):
                wrong = await sign_in(http, "dora", "not her password")
                assert_refused(wrong, 401, ErrorCode.AUTHENTICATION_FAILED)
            locked = await sign_in(http, "dora", PASSWORD)
        assert locked.status_code == 429 and locked.json()["code"] == "locked"
        assert any("sign-in locked" in r.getMessage() for r in caplog.records)
        assert not any(
            PASSWORD in r.getMessage() or "dora" in r.getMessage() for r in caplog.records
        )
        await lapse(1.1)  # the lockout (1 s)
        assert (await sign_in(http, "dora", PASSWORD)).status_code == 200


async def test_sign_out_everywhere(accounts_server: RunningServer) -> None:
    await accounts_server.services.accounts.create_user("emil", PASSWORD)
    async with client(accounts_server) as laptop, client(accounts_server) as phone:
        csrf = (await sign_in(laptop, "emil", PASSWORD)).json()["csrf_token"]
        await sign_in(phone, "emil", PASSWORD)
        assert (await phone.get("/api/session")).status_code == 200
        done = await laptop.delete("/api/sessions", headers={"x-csrf-token": csrf})
        assert done.status_code == 204
        assert_refused(await phone.get("/api/session"), 401, ErrorCode.NOT_SIGNED_IN)
        assert_refused(await laptop.get("/api/session"), 401, ErrorCode.NOT_SIGNED_IN)


async def test_sessions_expire(accounts_server: RunningServer) -> None:
    sessions = accounts_server.services.accounts._sessions
    short = AccountService(sessions, AccountSettings(session_hours=1 / 3600))
    await short.create_user("fritz", PASSWORD)
    token, _ = await short.sign_in("fritz", PASSWORD, "127.0.0.1")
    assert await short.session(token) is not None
    await lapse(1.2)  # the session's lifetime (1 s)
    assert await short.session(token) is None
    async with client(accounts_server) as http:
        http.cookies.set("rathaus_session", token)
        expired = await http.get("/api/session")
        assert_refused(expired, 401, ErrorCode.NOT_SIGNED_IN)
        assert expired.json()["message"] == "please sign in"


async def test_weak_passwords_and_bad_names_are_refused(accounts_server: RunningServer) -> None:
    accounts = accounts_server.services.accounts
    with pytest.raises(Exception, match="at least 10 characters"):
        await accounts.create_user("gerd", "short")
    with pytest.raises(Exception, match="user name"):
        await accounts.create_user("no spaces allowed", PASSWORD)
    await accounts.create_user("hanna", PASSWORD)
    with pytest.raises(Exception, match="taken"):
        await accounts.create_user("Hanna", PASSWORD)
