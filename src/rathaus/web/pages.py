"""Server-rendered pages: the start page, the meeting page shell and the not-found page.

The meeting client itself is static (web/static); these pages only choose the language and
say plainly when a room does not exist.
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from rathaus.accounts.api import GUEST_COOKIE
from rathaus.errors import UnknownRoom
from rathaus.rooms.service import RoomService
from rathaus.rooms.slug import is_valid_slug, slugify
from rathaus.services import services

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)

TEXT = {
    "de": {
        "title": "Rathaus - Videokonferenz",
        "start": "Einer Besprechung beitreten",
        "room": "Name des Raums",
        "go": "Weiter",
        "notfound_title": "Raum nicht gefunden",
        "notfound": "Diesen Besprechungsraum gibt es nicht. Bitte prüfen Sie den Link.",
        "home": "Zur Startseite",
    },
    "en": {
        "title": "Rathaus - video meetings",
        "start": "Join a meeting",
        "room": "Room name",
        "go": "Continue",
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


def _page(lang: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><link rel="stylesheet" href="/static/css/page.css"></head>
<body><main class="page">{body}</main></body></html>""",
        status_code=status,
    )


@router.get("/")
async def start_page(request: Request) -> Response:
    lang = language(request)
    t = TEXT[lang]
    body = f"""<h1>{t["start"]}</h1>
<form action="/join" method="get"><input type="hidden" name="lang" value="{lang}">
<label for="room">{t["room"]}</label>
<input id="room" name="room" required maxlength="64" autocomplete="off">
<button type="submit">{t["go"]}</button></form>"""
    return _page(lang, t["title"], body)


@router.get("/join")
async def join_by_name(room: str = "", lang: str = "") -> Response:
    slug = room if is_valid_slug(room) else slugify(room[:200])
    suffix = f"?lang={lang}" if lang in TEXT else ""
    return RedirectResponse(f"/r/{slug}{suffix}", status_code=303)


@router.get("/r/{slug}")
async def room_page(slug: str, request: Request) -> Response:
    rooms: RoomService = services(request).rooms
    try:
        await rooms.open(slug)
    except UnknownRoom:
        return not_found(request)
    response = FileResponse(STATIC / "room.html", headers={"Cache-Control": "no-store"})
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


def not_found(request: Request) -> HTMLResponse:
    lang = language(request)
    t = TEXT[lang]
    body = f"""<h1>{t["notfound_title"]}</h1><p>{t["notfound"]}</p>
<p><a href="/?lang={lang}">{t["home"]}</a></p>"""
    return _page(lang, t["notfound_title"], body, status=404)
