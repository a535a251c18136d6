"""The pages: the start page (a home for members, two sentences and a join field for everyone
else), the sign-in page, the meeting page, a room's settings page and "room not found"; and the
installation's branding (its stylesheet and logo).

The pages' scripts are static (web/static); these handlers choose the language, look the room
up, and fill the shared frame (:mod:`rathaus.web.shell`).
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rathaus.accounts.api import GUEST_COOKIE
from rathaus.errors import UnknownRoom
from rathaus.rooms.service import RoomService
from rathaus.rooms.slug import is_valid_slug, slugify
from rathaus.services import services
from rathaus.web import shell

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)

TEXT = {
    "de": {
        "start": "Einer Besprechung beitreten",
        "about": (
            "{brand} ist die Videokonferenz Ihrer Verwaltung: Besprechungen im Browser, ohne "
            "Installation und ohne Konto. Öffnen Sie den Link aus Ihrer Einladung, oder geben "
            "Sie hier den Link oder den Namen des Raums ein."
        ),
        "room": "Link oder Name des Raums",
        "go": "Weiter",
        "staff": "Sie arbeiten hier?",
        "signin": "Anmelden",
        "home_title": "Ihre Besprechungen",
        "signin_title": "Anmelden",
        "settings_title": "Raumeinstellungen",
        "notfound_title": "Raum nicht gefunden",
        "notfound": "Diesen Besprechungsraum gibt es nicht. Bitte prüfen Sie den Link.",
        "home": "Zur Startseite",
    },
    "en": {
        "start": "Join a meeting",
        "about": (
            "{brand} is your administration's video meeting service: meetings in the browser, "
            "with nothing to install and no account needed. Open the link in your invitation, "
            "or enter the link or the room's name here."
        ),
        "room": "Link or room name",
        "go": "Continue",
        "staff": "You work here?",
        "signin": "Sign in",
        "home_title": "Your meetings",
        "signin_title": "Sign in",
        "settings_title": "Room settings",
        "notfound_title": "Room not found",
        "notfound": "This meeting room does not exist. Please check the link.",
        "home": "To the start page",
    },
}


def language(request: Request) -> str:
    """German by default; English if asked for with ?lang=en or preferred over German."""
    forced = request.query_params.get("lang")
    if forced in TEXT:
        return forced
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in TEXT:
            return tag
    return "de"


async def _simple_page(
    request: Request, lang: str, title: str, body: str, status: int = 200
) -> HTMLResponse:
    return await shell.render(
        request, "page.html", lang=lang, title=title, status=status, content=body
    )


@router.get("/")
async def start_page(request: Request) -> Response:
    lang = language(request)
    t = TEXT[lang]
    brand = services(request).branding.name
    if await shell.signed_in_user(request) is not None:
        return await shell.render(
            request,
            "home.html",
            lang=lang,
            title=shell.titled(t["home_title"], brand),
            script="home.js",
        )
    methods = (await shell.page_state(request))["methods"]
    staff = (
        f'<p class="note">{t["staff"]} <a href="/signin?lang={lang}">{t["signin"]}</a></p>'
        if methods["password"] or methods["oidc"]
        else ""
    )
    body = f"""<h1>{t["start"]}</h1>
<p>{html.escape(t["about"].format(brand=brand))}</p>
<form class="stack" action="/join" method="get"><input type="hidden" name="lang" value="{lang}">
<div class="field"><label for="room">{t["room"]}</label>
<input id="room" name="room" required maxlength="300" autocomplete="off"></div>
<button class="primary" type="submit">{t["go"]}</button></form>
{staff}"""
    return await _simple_page(request, lang, brand, body)


@router.get("/signin")
async def sign_in_page(request: Request) -> Response:
    lang = language(request)
    if await shell.signed_in_user(request) is not None:
        return RedirectResponse(_local(request.query_params.get("next")), status_code=303)
    title = shell.titled(TEXT[lang]["signin_title"], services(request).branding.name)
    return await shell.render(
        request, "signin.html", lang=lang, title=title, script="signin-page.js"
    )


def _local(next_path: str | None) -> str:
    """A path on this site to go on to, never another site."""
    if not next_path or not next_path.startswith("/") or next_path.startswith(("//", "/\\")):
        return "/"
    return next_path


@router.get("/join")
async def join_by_name(room: str = "", lang: str = "") -> Response:
    """A room name, link name or whole meeting link (its guest link token kept)."""
    room = room.strip()[:300]
    query: dict[str, str] = {"lang": lang} if lang in TEXT else {}
    link = urlsplit(room)
    parts = link.path.split("/")
    if len(parts) >= 3 and parts[-2] == "r" and is_valid_slug(parts[-1]):
        slug = parts[-1]
        invite = parse_qs(link.query).get("invite")
        if invite:
            query["invite"] = invite[0]
    else:
        slug = room if is_valid_slug(room) else slugify(room[:200])
    suffix = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(f"/r/{slug}{suffix}", status_code=303)


@router.get("/r/{slug}")
async def room_page(slug: str, request: Request) -> Response:
    rooms: RoomService = services(request).rooms
    try:
        room = await rooms.open(slug)
    except UnknownRoom:
        return await not_found(request)
    lang = language(request)
    state = {"room": {"slug": room.slug, "name": room.name, "has_password": room.has_password}}
    title = shell.titled(room.name, services(request).branding.name)
    response = await shell.render(
        request,
        "room.html",
        lang=lang,
        title=title,
        script="app.js",
        styles=("meeting.css", "chat.css"),
        state=state,
    )
    if GUEST_COOKIE not in request.cookies:
        # A random id for this browser session, only so that a moderator's bar holds on guests.
        response.set_cookie(
            GUEST_COOKIE,
            secrets.token_urlsafe(16),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


@router.get("/r/{slug}/settings")
async def room_settings_page(slug: str, request: Request) -> Response:
    """Who may change the room is the API's to decide; this page asks it."""
    try:
        room = await services(request).rooms.get(slug)
    except UnknownRoom:
        return await not_found(request)
    if await shell.signed_in_user(request) is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?{urlencode({'next': here})}", status_code=303)
    lang = language(request)
    title = shell.titled(
        f"{TEXT[lang]['settings_title']}: {room.name}", services(request).branding.name
    )
    return await shell.render(
        request, "settings.html", lang=lang, title=title, script="settings.js"
    )


async def not_found(request: Request) -> HTMLResponse:
    lang = language(request)
    t = TEXT[lang]
    body = f"""<h1>{t["notfound_title"]}</h1><p>{t["notfound"]}</p>
<p><a href="/?lang={lang}">{t["home"]}</a></p>"""
    return await _simple_page(request, lang, t["notfound_title"], body, status=404)


@router.get("/branding.css")
async def branding_css(request: Request) -> Response:
    return Response(services(request).branding.css(), media_type="text/css")


@router.get("/branding/logo")
async def branding_logo(request: Request) -> Response:
    branding = services(request).branding
    if branding.logo is None or branding.logo_type is None:
        return Response(status_code=404)
    # An SVG opened on its own runs as a document of this site: no scripts, no plugins.
    return Response(
        branding.logo,
        media_type=branding.logo_type,
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        },
    )
