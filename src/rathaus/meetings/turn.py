"""ICE servers for a participant: time-limited TURN credentials in coturn's REST API scheme."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from rathaus.config import TurnSettings
from rathaus.meetings.server_messages import IceServer


def turn_credentials(secret: str, user: str, ttl: int, now: float | None = None) -> tuple[str, str]:
    """username = "<expiry>:<user>", credential = base64(HMAC-SHA1(secret, username))."""
    expiry = int(now if now is not None else time.time()) + ttl
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers(settings: TurnSettings, participant_id: str) -> list[IceServer]:
    if not settings.enabled:
        return []
    username, credential = turn_credentials(settings.secret, participant_id, settings.ttl)
    return [IceServer(urls=list(settings.urls), username=username, credential=credential)]
