"""Mounts the console on the API's FastAPI app: pages, live events, static assets, and the
security headers of every console response (a strict Content-Security-Policy: scripts,
styles, images and connections from this origin only, no inline script or style, no
framing)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from worker.console import config_page, kb_page, live, ops, pages
from worker.console.session import CsrfRefused, NotAdmin, NotSignedIn

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# The JSON API, its documents and metrics keep their own headers (Swagger UI needs its CDN).
_NOT_CONSOLE = ("/api/", "/docs", "/redoc", "/openapi.json", "/metrics")


def install(app: FastAPI) -> None:
    app.include_router(pages.router)
    app.include_router(live.router)
    app.include_router(ops.router)
    app.include_router(config_page.router)
    app.include_router(kb_page.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(NotAdmin, _not_admin)
    app.add_middleware(SecurityHeaders)


async def _not_signed_in(request: Request, _exc: Exception) -> Response:
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/login", status_code=303)
    return PlainTextResponse("sign in first", status_code=401)


async def _csrf_refused(_request: Request, _exc: Exception) -> Response:
    return PlainTextResponse("refused: this form is missing its CSRF token; reload the page",
                             status_code=403)


async def _not_admin(_request: Request, _exc: Exception) -> Response:
    return PlainTextResponse("refused: only an admin of this dealer may change this (ask for "
                             "a login made with `agent-runtime reviewers add --admin`)",
                             status_code=403)


class SecurityHeaders:
    """ASGI middleware adding the console's headers to every console response."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http" or scope["path"].startswith(_NOT_CONSOLE):
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _HEADERS if k not in names]
                if not scope["path"].startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
