"""What the server logs while a test runs, uvicorn's own loggers included (they do not
propagate to the root logger, so pytest's caplog alone does not see them)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

SERVER_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def server_log() -> Iterator[list[logging.LogRecord]]:
    """Every record that reaches the root logger's or uvicorn's handlers meanwhile, once."""
    handler = _Records()
    # Records reach the handlers of a logger's parents only while it propagates: attach to the
    # root and to the loggers that do not propagate (uvicorn's).
    loggers = [logging.getLogger(name) for name in SERVER_LOGGERS]
    attached = [lg for lg in loggers if lg is logging.root or not lg.propagate]
    for lg in attached:
        lg.addHandler(handler)
    try:
        yield handler.records
    finally:
        for lg in attached:
            lg.removeHandler(handler)


def problems(records: list[logging.LogRecord]) -> list[str]:
    """The records that say something went wrong: ERROR and above, or with a traceback."""
    return [
        record.getMessage()
        for record in records
        if record.levelno >= logging.ERROR or record.exc_info or "Traceback" in record.getMessage()
    ]
