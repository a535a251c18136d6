"""Assertions on HTTP answers: a refusal is checked by its status and its error code, never by
the status alone (a 403 for the wrong reason is a bug too)."""

from __future__ import annotations

import httpx

from rathaus.errors import ErrorCode


def assert_refused(response: httpx.Response, status: int, code: ErrorCode) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
