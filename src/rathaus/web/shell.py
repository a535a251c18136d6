"""The frame every page shares: the branded header, the stylesheets, the favicon, and the page's
starting state (the sign-in, the sign-in methods, the installation's name) as a JSON block that
the page's script reads at once — no request that fails with 401 for someone not signed in,
no flash of the wrong header.

Templates (web/templates/*.html) are the pages' bodies, with ``{{brand}}`` for the header and
further fields of their own; ``frame.html`` around them has the head (``{{lang}}``,
``{{title}}``, ``{{head}}``) and ``{{body}}``. Everything put there is escaped here.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from rathaus.accounts.api import current_session
from rathaus.accounts.service import User
from rathaus.errors import ClientError
from rathaus.services import services
from rathaus.web.branding import Branding

TEMPLATES = Path(__file__).parent / "templates"
NO_STORE = {"Cache-Control": "no-store"}
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")

HEAD = """<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/css/rathaus.css">
  <link rel="stylesheet" href="/static/css/pages.css">
  <link rel="stylesheet" href="/branding.css">"""


def titled(*parts: str) -> str:
    """A page title: what the page is, then the installation ("Ausschuss \u2013 Rathaus")."""
    return " \u2013 ".join(parts)


@cache
def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def brand_html(branding: Branding, lang: str) -> str:
    """The installation's name (and logo) as a link to the start page."""
    logo = (
        '<img class="brand-logo" src="/branding/logo" alt="">' if branding.logo is not None else ""
    )
    return (
        f'<a class="brand" href="/?lang={lang}">{logo}'
        f'<span class="brand-name">{html.escape(branding.name)}</span></a>'
    )


def json_block(value: Any) -> str:
    """JSON that cannot end its <script> element early, whatever strings it holds."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def user_json(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
    }


async def signed_in_user(request: Request) -> tuple[User, str] | None:
    """The caller's account and CSRF token, if signed in (a GET: no CSRF check to fail)."""
    try:
        signed_in = await current_session(request)
    except ClientError:
        return None
    return (signed_in.user, signed_in.csrf_token) if signed_in else None


async def page_state(request: Request) -> dict[str, Any]:
    wired = services(request)
    found = await signed_in_user(request)
    return {
        "session": {"user": user_json(found[0]), "csrf_token": found[1]} if found else None,
        "methods": {
            "password": await wired.accounts.password_sign_in(),
            "oidc": wired.oidc is not None,
        },
        "brand": {"name": wired.branding.name},
    }


def _fill(text: str, values: dict[str, str]) -> str:
    """One pass, so that nothing inserted is read as a placeholder in turn."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


async def render(
    request: Request,
    name: str,
    *,
    lang: str,
    title: str,
    script: str | None = None,
    styles: tuple[str, ...] = (),
    status: int = 200,
    state: dict[str, Any] | None = None,
    **fields: str,
) -> HTMLResponse:
    """Template ``name`` (a page's body) filled in and framed (frame.html). A page with a
    ``script`` (under /static/js) gets its starting state; ``state`` adds to it; ``styles`` are
    further stylesheets under /static/css; ``fields`` are HTML already (callers escape)."""
    head = [HEAD, *(f'<link rel="stylesheet" href="/static/css/{css}">' for css in styles)]
    if script is not None:
        page = json_block({**await page_state(request), **(state or {})})
        head.append(f'<script type="application/json" id="page-state">{page}</script>')
        head.append(f'<script type="module" src="/static/js/{script}"></script>')
    brand = brand_html(services(request).branding, lang)
    body = _fill(template(name), {"brand": brand, **fields})
    text = _fill(
        template("frame.html"),
        {"lang": lang, "title": html.escape(title), "head": "\n  ".join(head), "body": body},
    )
    return HTMLResponse(text, status_code=status, headers=NO_STORE)
