"""How failed HTTP requests are answered: always ``{"code": …, "message": …}``, never a 500 for
what a client sent.

- Rathaus's own errors (``errors.ClientError``) with their code and status.
- A body that is not JSON at all — malformed, not UTF-8, nested too deeply, a number Python
  will not convert — ``400 bad_message``.
- JSON that is not what the endpoint takes (FastAPI's validation): ``422 bad_message`` with
  FastAPI's ``detail`` list (type, loc, msg). The input is never echoed: it may be a password,
  and an infinite number or a lone surrogate cannot even be written back as JSON.
- Any other HTTP error of the framework (404, 405, …) with a code for its status.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from rathaus import errors

# The codes of the framework's own HTTP errors.
STATUS_CODES = {
    400: errors.BadMessage.code,
    404: errors.NotFound.code,
    405: "method_not_allowed",
    413: errors.TooLarge.code,
}


def _answer(error: errors.ClientError, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"code": error.code, "message": error.message, **extra},
        status_code=errors.http_status(error),
    )


def _unparsable(cause: BaseException | None) -> errors.BadMessage:
    if isinstance(cause, RecursionError):
        return errors.BadMessage("the request body is nested too deeply")
    if isinstance(cause, UnicodeDecodeError):
        return errors.BadMessage("the request body is not UTF-8")
    return errors.BadMessage("the request body is not valid JSON")


async def client_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.ClientError)
    return _answer(exc)


async def validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return _answer(_unparsable(None))
    detail = [{"type": p["type"], "loc": list(p["loc"]), "msg": p["msg"]} for p in problems]
    first = detail[0] if detail else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(x) for x in first["loc"][1:]) or "body"  # loc[0]: body, query, path
    return _answer(errors.Unprocessable(f"{where}: {first['msg']}"), detail=detail)


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):  # no body allowed
        return Response(status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 400 and exc.__cause__ is not None:  # FastAPI could not parse the body
        message = _unparsable(exc.__cause__).message
    else:
        message = str(exc.detail)
    code = STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return JSONResponse(
        {"code": code, "message": message}, status_code=exc.status_code, headers=exc.headers
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.ClientError, client_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
