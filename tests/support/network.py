"""Where test media flow: a network namespace with loopback addresses only.

`scripts/in-test-network.sh` (used by `make test`) runs the suite in a network namespace of its own
with lo (127.0.0.1) and a veth holding 127.0.0.2. Janus skips loopback interfaces when it gathers
ICE candidates, so it is told to use that veth; aiortc bots gather on 127.0.0.2 too.
"""

from __future__ import annotations

import os

import pytest

# UDP port ranges of the test peers, apart from each other and from the kernel's ephemeral range
# (where the free API ports of every server come from): tests/unit/test_test_ports.py checks it.
JANUS_RTP_PORTS = (20000, 29999)  # every Janus of the suite shares it (Janus skips ports in use)
TURN_RELAY_PORTS = (30000, 30199)  # coturn's relay ports

MEDIA_IP = os.environ.get("RATHAUS_TEST_MEDIA_IP", "")
MEDIA_IFACE = os.environ.get("RATHAUS_TEST_MEDIA_IFACE", "")


def require_test_network() -> None:
    if not (MEDIA_IP and MEDIA_IFACE):
        pytest.fail(
            "media tests run in the test network namespace: use `make test`, or "
            "scripts/in-test-network.sh .venv/bin/pytest …",
            pytrace=False,
        )
