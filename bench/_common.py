"""Shared helpers of the bench scripts: import path, the test network, small statistics."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the scripts reuse tests/support (server, bot, network)
    sys.path.insert(0, str(ROOT))

from tests.support.network import MEDIA_IFACE, MEDIA_IP  # noqa: E402 (after the path above)


def require_test_network() -> None:
    """Media stay on loopback: refuse to run outside scripts/in-test-network.sh."""
    if not (MEDIA_IP and MEDIA_IFACE):
        sys.exit(
            "run the benches in the test network namespace: "
            "./scripts/in-test-network.sh .venv/bin/python bench/<script>.py (or `make bench`)"
        )


def summary(values: list[float], digits: int = 1) -> dict[str, object]:
    """Median, min, max and the runs themselves, rounded."""
    if not values:
        return {"median": None, "min": None, "max": None, "runs": []}
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": [round(v, digits) for v in values],
    }
