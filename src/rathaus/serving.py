"""How uvicorn serves Rathaus: one set of options, for ``rathaus serve`` and the tests' server
alike, so that the two cannot differ in what they trust or accept."""

from __future__ import annotations

from typing import Any

from rathaus.chat.protocol import MAX_FRAME as CHAT_MAX_FRAME
from rathaus.config import Settings

# The largest frame of any socket: a chat commit with its GroupInfo (rathaus.chat.protocol);
# the signaling socket refuses more than its own 64 KiB itself (docs/protocol.md).
WS_MAX_SIZE = CHAT_MAX_FRAME + 1024


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` (besides the app and the log level).

    X-Forwarded-For and X-Forwarded-Proto are believed only from ``server.forwarded_allow_ips``:
    uvicorn on its own would believe them from 127.0.0.1 (or $FORWARDED_ALLOW_IPS), so that any
    local process could pose as any address and dodge the limits kept per address.
    """
    proxies = list(settings.server.forwarded_allow_ips)
    return {
        "host": settings.server.host,
        "port": settings.server.port,
        "access_log": settings.server.access_log,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,  # never None: uvicorn would read the environment
        "ws_max_size": WS_MAX_SIZE,
        "ws_ping_interval": None,  # the protocol has its own keepalive
        # No permessage-deflate: compressing the resume token together with others' names would
        # open a side channel (as CRIME did), and key envelopes do not compress anyway.
        "ws_per_message_deflate": False,
        "lifespan": "on",
    }
