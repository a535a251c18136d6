"""How uvicorn serves Rathaus: one set of options, for ``rathaus serve`` and the tests' server
alike, so that the two cannot differ in what they trust or accept."""

from __future__ import annotations

from typing import Any

from rathaus.config import Settings

# A signaling message is at most 64 KiB (docs/protocol.md); the rest is the frame's overhead.
WS_MAX_SIZE = 64 * 1024 + 1024


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
