"""Logging set-up. By default no client IP address reaches a log (data minimisation)."""

from __future__ import annotations

import logging


class DropClientAddresses(logging.Filter):
    """uvicorn logs each WebSocket handshake with the client's address; drop those records."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and '"WebSocket ' in record.msg)


def configure_logging(*, level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The websockets library logs connection details at INFO, Alembic every migration step.
    for noisy in ("websockets", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
