"""Every operation of the HTTP API, fuzzed by schemathesis from the server's own OpenAPI document
(/api/openapi.json): data that fits the schema and data that does not, anonymous and signed in
(a room's owner, an administrator). The server never answers 5xx, what it declares it answers as
declared, it logs no error, and afterwards it still lets someone into a meeting (issue 8).

Schemathesis calls with `requests`, which blocks: the fuzzing runs in a worker thread while the
server goes on in the test's event loop.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from rathaus.accounts.api import CSRF_HEADER, SESSION_COOKIE
from tests.support import chat
from tests.support.bot import Bot
from tests.support.logs import problems, server_log
from tests.support.server import RunningServer, running_server, server_settings, shared_janus

PASSWORD = "a long password 1"
# More examples for a longer hunt: RATHAUS_FUZZ_SCALE=20 make test ARGS=tests/integration/…
SCALE = float(os.environ.get("RATHAUS_FUZZ_SCALE", "1"))
EXAMPLES = int(12 * SCALE)  # per operation, generation mode and way of filling the path
CHECKS = [not_a_server_error, response_schema_conformance]
# They end the signed-in sessions the other operations are called with: each runs last, with
# sessions of its own.
SIGN_OUTS = ("DELETE /api/session", "DELETE /api/sessions")

# The cases are drawn in a worker thread while this event loop serves them; the websockets
# library's keepalive pings meanwhile take their payload from the global `random`, which
# Hypothesis takes for a strategy using it (and fails the draw). Not the strategies' doing.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)


@pytest.fixture(scope="module")
async def rathaus(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    """A Rathaus of its own (its accounts, and the sign-in lockouts the fuzzing provokes, stay
    out of the shared server), on the shared Janus."""
    data = tmp_path_factory.mktemp("fuzz-http")
    async with running_server(server_settings(data, janus=shared_janus(server))) as running:
        yield running


@dataclass
class Identity:
    """Who calls: no one, or a signed-in user (cookie and CSRF header)."""

    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    username: str = ""


async def account(rathaus: RunningServer, name: str, *, admin: bool = False) -> Identity:
    """A new user, not yet signed in."""
    username = f"{name}-{uuid.uuid4().hex[:6]}"
    await rathaus.services.accounts.create_user(username, PASSWORD, admin=admin)
    return Identity(name, username=username)


async def signed_in(rathaus: RunningServer, user: Identity) -> Identity:
    """Signed in as a browser does (POST /api/session): the cookie and the CSRF header."""
    async with httpx.AsyncClient(base_url=rathaus.http) as http:
        body = {"username": user.username, "password": PASSWORD}
        answer = await http.post("/api/session", json=body)
        answer.raise_for_status()
    headers = {CSRF_HEADER: answer.json()["csrf_token"]}
    return Identity(user.name, dict(answer.cookies), headers, user.username)


async def signed_in_again(rathaus: RunningServer, user: Identity) -> Identity:
    """A new session of the same user, from the service: the fuzzing locks 127.0.0.1's
    sign-ins (wrong passwords)."""
    accounts = rathaus.services.accounts
    token, session = await accounts.sign_in(user.username, PASSWORD, "fuzz-test")
    cookies, headers = {SESSION_COOKIE: token}, {CSRF_HEADER: session.csrf_token}
    return Identity(user.name, cookies, headers, user.username)


def fuzz(
    base: str,
    identities: list[Identity],
    fixed: dict[str, str],
    *,
    only: tuple[str, ...] = (),
    but: tuple[str, ...] = (),
) -> int:
    """The operations (``only`` these, ``but`` not those, by label: "GET /api/health") in both
    generation modes, their path parameters generated and (where they have some) fixed to an
    existing room and user; each case called as every identity. Returns the number of calls;
    a failed check raises."""
    schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the server's schema is valid
        label = result.ok().label
        if (not only or label in only) and label not in but:
            operations.append(result.ok())
    calls = 0

    def call_as_everyone(case: Any) -> None:
        nonlocal calls
        for identity in identities:
            response = case.call(
                base_url=base, headers=identity.headers, cookies=identity.cookies, timeout=30
            )
            calls += 1
            case.validate_response(response, checks=CHECKS)

    for operation in operations:
        names = {parameter.name for parameter in operation.path_parameters}
        variants: list[dict[str, str] | None] = [None]
        if names:
            variants.append({name: fixed[name] for name in names})
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in variants:
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=path_parameters
                )
                try:
                    _run(strategy, EXAMPLES, call_as_everyone)
                except Unsatisfiable:
                    # Nothing of it can be made invalid (no parameters, no body; or only
                    # the path's, which are fixed here)
                    assert mode is GenerationMode.NEGATIVE, operation.label
    return calls


def _run(strategy: Any, examples: int, test: Callable[[Any], None]) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        test(case)

    run()


async def test_every_operation_survives_fuzzing(rathaus: RunningServer) -> None:
    anonymous = Identity("anonymous")
    owner = await signed_in(rathaus, await account(rathaus, "owner"))
    admin = await signed_in(rathaus, await account(rathaus, "admin", admin=True))
    async with httpx.AsyncClient(
        base_url=rathaus.http, cookies=owner.cookies, headers=owner.headers
    ) as http:
        created = await http.post("/api/rooms", json={"name": "Fuzz"})
        slug = created.json()["slug"]
        made = await http.post(f"/api/rooms/{slug}/guest-links", json={})
        device = await chat.register_device(http)
        blob = await http.post(
            f"/api/chat/rooms/{slug}/blobs",
            content=b"ciphertext",
            headers={"content-type": "application/octet-stream"},
        )
    fixed = {
        "slug": slug,
        "username": admin.username,
        "link_id": made.json()["id"],
        "device_id": device,
        "blob_id": blob.json()["blob"],
    }
    with server_log() as log:
        identities = [anonymous, owner, admin]
        calls = await asyncio.to_thread(fuzz, rathaus.http, identities, fixed, but=SIGN_OUTS)
        for sign_out in SIGN_OUTS:
            identities = [anonymous, *[await signed_in_again(rathaus, i) for i in (owner, admin)]]
            only = (sign_out,)
            calls += await asyncio.to_thread(fuzz, rathaus.http, identities, fixed, only=only)
        bot = Bot(rathaus.ws, f"fuzz-{uuid.uuid4().hex[:8]}", "Neu")
        try:
            await bot.join()  # the server still lets someone in
        finally:
            await bot.close()
    assert calls > 500
    assert problems(log) == []


# The pages are no part of the OpenAPI document: any address under them, any language.
_ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
_TRAVERSALS = ["../../pyproject.toml", "..%2f..%2fpyproject.toml", "%2e%2e/%2e%2e/pyproject.toml"]
PAGES: st.SearchStrategy[tuple[str, dict[str, str]]] = st.one_of(
    st.just(("/", {})),
    st.tuples(st.just("/join"), st.fixed_dictionaries({"room": st.text(), "lang": st.text()})),
    st.tuples(
        st.text(min_size=1).map(lambda slug: f"/r/{quote(slug, safe='')}"),
        st.fixed_dictionaries({}, optional={"invite": st.text(), "lang": _ASCII}),
    ),
    st.tuples(
        (st.text() | st.sampled_from(_TRAVERSALS)).map(lambda path: f"/static/{quote(path, '/%')}"),
        st.just({}),
    ),
)


@settings(max_examples=int(150 * SCALE), deadline=None, database=None)
@given(page=PAGES, accept_language=_ASCII.map(str.strip))  # (h11 sends no outer blanks)
async def test_every_page_answers_any_address_without_a_server_error(
    rathaus: RunningServer, page: tuple[str, dict[str, str]], accept_language: str
) -> None:
    path, query = page
    with server_log() as log:
        async with httpx.AsyncClient(base_url=rathaus.http) as http:
            headers = {"accept-language": accept_language}
            response = await http.get(path, params=query, headers=headers)
    assert response.status_code < 500, (path, query, response.text[:300])
    assert b"[build-system]" not in response.content  # nothing from outside web/static
    assert problems(log) == []


# --- what the fuzzing found -----------------------------------------------------------------------


async def test_audit_times_say_their_time_zone(rathaus: RunningServer) -> None:
    """SQLite keeps no time zone: the audit log's times came back as "2026-12-01T14:40:32",
    not the date-time (RFC 3339, with its offset) that the OpenAPI document declares."""
    owner = await signed_in_again(rathaus, await account(rathaus, "owner"))
    admin = await signed_in_again(rathaus, await account(rathaus, "admin", admin=True))
    async with httpx.AsyncClient(base_url=rathaus.http, cookies=owner.cookies) as as_owner:
        made = await as_owner.post("/api/rooms", json={"name": "Uhr"}, headers=owner.headers)
    slug = made.json()["slug"]
    async with httpx.AsyncClient(base_url=rathaus.http, cookies=admin.cookies) as as_admin:
        entries = await as_admin.get(f"/api/audit?room={slug}")
    assert [entry["action"] for entry in entries.json()] == ["room_created"]
    at = datetime.fromisoformat(entries.json()[0]["at"])
    assert at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=1)
