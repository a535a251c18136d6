"""A real OpenID provider (the npm package oidc-provider) on a free loopback port.

``tests/support/oidc_provider/provider.js`` runs it; `make test` installs its node_modules with
``npm ci``. The provider signs in the test user named by the authorization request's
``login_hint`` without any page (an unknown name is refused with ``access_denied``), so
``sign_in_at_provider`` only follows redirects, as a browser would, up to the redirect URI.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
import pytest

from rathaus.config import OidcSettings

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
# Nothing listens here: sign_in_at_provider stops when the provider redirects to it.
REDIRECT_URI = "http://127.0.0.1:9/auth/oidc/callback"
READY_TIMEOUT = 15.0


@dataclass(frozen=True)
class OidcTestClient:
    client_id: str
    client_secret: str
    auth_method: str


@dataclass(frozen=True)
class OidcTestProvider:
    issuer: str
    # "basic" and "post" (by token endpoint authentication), and "other" (another application).
    clients: dict[str, OidcTestClient]
    redirect_uri: str = REDIRECT_URI

    def settings(self, client: str = "basic", **overrides: Any) -> OidcSettings:
        registered = self.clients[client]
        values: dict[str, Any] = {
            "issuer": self.issuer,
            "client_id": registered.client_id,
            "client_secret": registered.client_secret,
            "token_endpoint_auth_method": registered.auth_method,
            "timeout": 5.0,
        }
        return OidcSettings.model_validate(values | overrides)


def _clients() -> dict[str, OidcTestClient]:
    return {
        # Characters that must be form-encoded in the Basic header (RFC 6749 §2.3.1).
        "basic": OidcTestClient(
            "rathaus", secrets.token_urlsafe(24) + "+/:%", "client_secret_basic"
        ),
        "post": OidcTestClient("rathaus-post", secrets.token_urlsafe(24), "client_secret_post"),
        "other": OidcTestClient("other-app", secrets.token_urlsafe(24), "client_secret_basic"),
    }


@contextlib.asynccontextmanager
async def running_oidc_provider(
    work_dir: Path, redirect_uris: tuple[str, ...] = ()
) -> AsyncIterator[OidcTestProvider]:
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            "the OIDC tests need node and tests/support/oidc_provider/node_modules: "
            "use `make test`",
            pytrace=False,
        )
    clients = _clients()
    metadata = [
        {
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "token_endpoint_auth_method": c.auth_method,
            "redirect_uris": [REDIRECT_URI, *redirect_uris],
        }
        for c in clients.values()
    ]
    log_path = work_dir / "oidc-provider.log"
    log = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        node,
        str(PROVIDER_DIR / "provider.js"),
        "0",
        cwd=PROVIDER_DIR,
        env={**os.environ, "OIDC_CLIENTS": json.dumps(metadata), "NODE_ENV": "test"},
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
    )
    try:
        issuer = await _wait_ready(process, log_path)
        yield OidcTestProvider(issuer, clients)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


async def _wait_ready(process: asyncio.subprocess.Process, log_path: Path) -> str:
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), READY_TIMEOUT)
    except TimeoutError:
        line = b""
    if not line.startswith(b"READY "):
        with contextlib.suppress(TimeoutError):  # a dying node: until it has written its message
            await asyncio.wait_for(process.wait(), 2)
        log = log_path.read_text(errors="replace")  # noqa: ASYNC240  (a small file, once)
        raise RuntimeError(f"oidc-provider did not start: {log}")
    return str(json.loads(line[len(b"READY ") :])["issuer"])


async def sign_in_at_provider(
    authorization_url: str, login: str | None, redirect_uri: str = REDIRECT_URI
) -> dict[str, str]:
    """Follow the provider's redirects as a browser would; the callback's query parameters.

    ``login`` names a test user (anna, bernd, carla); None makes the person refuse.
    """
    url = authorization_url + "&" + urlencode({"login_hint": login or "nobody"})
    async with httpx.AsyncClient(follow_redirects=False, timeout=5.0) as browser:
        for _ in range(10):
            response = await browser.get(url)
            if not response.is_redirect:
                raise AssertionError(
                    f"the provider stopped at HTTP {response.status_code}: {response.text[:300]}"
                )
            url = urljoin(url, response.headers["location"])
            if url.startswith(redirect_uri):
                return dict(parse_qsl(urlsplit(url).query))
    raise AssertionError("the provider redirected too often")


@pytest.fixture(scope="session")
async def oidc_provider(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[OidcTestProvider]:
    """A real OpenID provider for the session; see ``OidcTestProvider.settings``."""
    async with running_oidc_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider
