"""The JSON frames of Rathaus's WebSockets (the meeting's, rathaus.meetings.protocol, and the
chat's, rathaus.chat.protocol): read at the edge into an object with a string ``type``, or
refused with a clear ``bad_message`` / ``too_large`` — never a traceback. Sans-IO."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from rathaus.errors import BadMessage, TooLarge


def read_object(frame: str | bytes, max_bytes: int, what: str = "a message") -> dict[str, Any]:
    if len(frame) > max_bytes:
        raise TooLarge(f"{what} may have at most {max_bytes} bytes")
    try:
        data = json.loads(frame)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadMessage("the message is not JSON") from exc
    except RecursionError as exc:  # deeply nested arrays or objects
        raise BadMessage("the message is nested too deeply") from exc
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise BadMessage("a message is a JSON object with a string field 'type'")
    return data


def where(exc: ValidationError) -> tuple[str, str]:
    """The first problem of a validation: (the field's dotted path, or "message"; what is wrong)."""
    first = exc.errors()[0]
    return ".".join(str(p) for p in first["loc"][1:]) or "message", first["msg"]
