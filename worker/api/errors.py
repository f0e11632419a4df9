"""Error bodies that can always be encoded.

A refusal never echoes the raw input back: validation errors keep `type`, `loc` and `msg`
(not `input` or `ctx`, which hold what the caller sent), and every string in an error body is
made encodable (a lone surrogate becomes `\\udXXX`, a non-finite number its name), so the
answer to bad input is a 4xx, never a 500 raised while encoding it.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

MAX_ERRORS = 50
MAX_TEXT = 500


def safe(value: Any, depth: int = 0) -> Any:
    """A copy of `value` that JSON can always encode as UTF-8."""
    if depth > 8:
        return "…"
    if isinstance(value, str):
        text = value[:MAX_TEXT]
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        return text
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, dict):
        return {str(safe(k, depth + 1)): safe(v, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, list | tuple):
        return [safe(v, depth + 1) for v in list(value)[:100]]
    return safe(str(value), depth + 1)


def validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where and why, without what was sent."""
    return [
        {"type": e.get("type"), "loc": safe(list(e.get("loc", ()))), "msg": safe(e.get("msg", ""))}
        for e in errors[:MAX_ERRORS]
    ]


def pydantic_detail(exc: ValidationError) -> list[dict[str, Any]]:
    return validation_errors(exc.errors(include_url=False))


async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": validation_errors(list(exc.errors()))}, status_code=422)


async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": safe(exc.detail)}, status_code=exc.status_code,
                        headers=exc.headers)


async def _gone(_request: Request, _exc: ClientDisconnect) -> Response:
    """The client left (or was cut off for stalling): nobody to answer, nothing to log."""
    return Response(status_code=499)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ClientDisconnect, _gone)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
