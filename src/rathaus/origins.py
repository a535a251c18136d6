"""The WebSocket Origin check against cross-site WebSocket hijacking: a browser's socket must
come from a page of Rathaus's own scheme, host and port."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.websockets import WebSocket


def same_origin(websocket: WebSocket) -> bool:
    """Browsers send the page's Origin; it must be Rathaus's own scheme, host and port."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser (bots, the telephony gateway)
    ours = _origin_of(f"{_http_scheme(websocket)}://{websocket.url.netloc}")
    return ours is not None and _origin_of(origin) == ours


def _http_scheme(websocket: WebSocket) -> str:
    return "https" if websocket.url.scheme == "wss" else "http"


def _origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the default port filled in; None for what is no origin."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)
