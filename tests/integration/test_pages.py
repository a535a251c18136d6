"""The pages over HTTP: the installation's branding on every page, its logo served so that it
cannot run as a document of this site, the page's starting state, and where each page sends
whoever is not (or is) signed in."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.server import RunningServer, running_server, server_settings, shared_janus

PASSWORD = "a long password 1"
LOGO = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
BRAND = "Videokonferenz der Stadt <Musterstadt>"


@pytest.fixture(scope="module")
async def branded(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    data = tmp_path_factory.mktemp("branded")
    logo = data / "wappen.svg"
    logo.write_bytes(LOGO)
    settings = server_settings(
        data,
        janus=shared_janus(server),
        branding={"name": BRAND, "accent": "#ffd34d", "logo": str(logo)},
        meeting={"adhoc_rooms": False},
    )
    async with running_server(settings) as running:
        await running.services.accounts.create_user("anna", PASSWORD, "Anna Amt")
        owner = await running.services.accounts.user_named("anna")
        await running.services.rooms.create("Bauausschuss", "bau", owner_id=owner.id)
        yield running


@pytest.fixture
async def http(branded: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=branded.http) as client:
        yield client


async def sign_in(http: httpx.AsyncClient) -> None:
    signed = await http.post("/api/session", json={"username": "anna", "password": PASSWORD})
    assert signed.status_code == 200


def page_state(page: httpx.Response) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="page-state">(.*?)</script>', page.text)
    assert found, "no page state"
    state: dict[str, Any] = json.loads(found.group(1))
    return state


@pytest.mark.parametrize("path", ["/", "/signin", "/r/bau", "/r/nowhere"])
async def test_every_page_shows_the_installation(http: httpx.AsyncClient, path: str) -> None:
    page = await http.get(path)
    assert page.status_code == (404 if path == "/r/nowhere" else 200)
    escaped = "Videokonferenz der Stadt &lt;Musterstadt&gt;"
    assert f'<span class="brand-name">{escaped}</span>' in page.text
    assert BRAND not in page.text
    assert '<img class="brand-logo" src="/branding/logo" alt="">' in page.text
    assert '<link rel="stylesheet" href="/branding.css">' in page.text
    assert '<link rel="icon" href="/static/img/favicon.svg"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert re.search(r"\{\{\w+\}\}", page.text) is None  # every placeholder filled


async def test_the_accent_and_the_logo(http: httpx.AsyncClient) -> None:
    css = await http.get("/branding.css")
    assert css.headers["content-type"].startswith("text/css")
    assert css.text == ":root { --brand: #ffd34d; --on-brand: #000000; }\n"
    logo = await http.get("/branding/logo")
    assert logo.content == LOGO
    assert logo.headers["content-type"] == "image/svg+xml"
    # Opened on its own, the SVG's script must not run as a page of this site.
    assert "sandbox" in logo.headers["content-security-policy"]
    assert "script-src" not in logo.headers["content-security-policy"]
    assert "default-src 'none'" in logo.headers["content-security-policy"]


async def test_no_logo_is_a_404(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.http) as http:
        assert (await http.get("/branding/logo")).status_code == 404
        assert '<img class="brand-logo"' not in (await http.get("/")).text


async def test_the_page_state_for_a_guest_and_for_a_member(http: httpx.AsyncClient) -> None:
    guest = page_state(await http.get("/r/bau"))
    assert guest == {
        "session": None,
        "methods": {"password": True, "oidc": False},
        "brand": {"name": BRAND},
        "room": {"slug": "bau", "name": "Bauausschuss", "has_password": False},
    }
    await sign_in(http)
    member = page_state(await http.get("/r/bau"))
    session = member["session"]
    assert session["user"] == {"username": "anna", "display_name": "Anna Amt", "role": "member"}
    assert session["csrf_token"] == (await http.get("/api/session")).json()["csrf_token"]


async def test_the_start_page_is_a_home_for_members(http: httpx.AsyncClient) -> None:
    anonymous = await http.get("/?lang=en")
    assert "Join a meeting" in anonymous.text and 'href="/signin?lang=en"' in anonymous.text
    assert "home.js" not in anonymous.text
    await sign_in(http)
    home = await http.get("/?lang=en")
    assert '<script type="module" src="/static/js/home.js"></script>' in home.text
    assert "<title>Your meetings \u2013 Videokonferenz der Stadt &lt;Musterstadt&gt;</title>" in (
        home.text
    )


async def test_signing_in_and_settings_pages_send_people_on(http: httpx.AsyncClient) -> None:
    settings = await http.get("/r/bau/settings?lang=en")
    assert settings.status_code == 303
    assert settings.headers["location"] == "/signin?next=%2Fr%2Fbau%2Fsettings%3Flang%3Den"
    assert (await http.get("/r/nowhere/settings")).status_code == 404
    assert (await http.get("/signin?next=/r/bau")).status_code == 200
    await sign_in(http)
    assert (await http.get("/r/bau/settings")).status_code == 200
    # signed in already: on to where the sign-in was meant to lead, on this site only
    for asked, went in [("/r/bau", "/r/bau"), ("//evil.example/", "/"), ("https://x.y/", "/")]:
        again = await http.get("/signin", params={"next": asked})
        assert (again.status_code, again.headers["location"]) == (303, went)


@pytest.mark.parametrize(
    ("typed", "went"),
    [
        ("Haupt Ausschuss", "/r/haupt-ausschuss"),
        ("bau", "/r/bau"),
        ("https://rathaus.example/r/bau", "/r/bau"),
        ("https://rathaus.example/r/bau?invite=abc.def&x=1", "/r/bau?invite=abc.def"),
        ("rathaus.example/r/bau?invite=a%2Bb", "/r/bau?invite=a%2Bb"),
        ("https://evil.example//r/", "/r/https-evil-example-r"),
    ],
)
async def test_joining_by_a_name_or_a_whole_link(
    http: httpx.AsyncClient, typed: str, went: str
) -> None:
    redirect = await http.get("/join", params={"room": typed})
    assert (redirect.status_code, redirect.headers["location"]) == (303, went)
