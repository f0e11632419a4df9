"""Who is signed in to the console, and the CSRF check on everything that changes state.

The session cookie holds a random token (HttpOnly, SameSite=Strict, Secure when
CONSOLE_COOKIE_SECURE is set, e.g. behind TLS); the table holds its SHA-256 and the session's
CSRF token, which every POST must echo in its `csrf` field or the `X-CSRF-Token` header. A
reviewer acts for their own client only: the client comes from the session, never from the
request.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from worker.console import credentials
from worker.bootstrap import Runtime
from worker.store import reviewers
from worker.store.models import utcnow
from worker.store.reviewers import SignedIn

SESSION_COOKIE = "ar_session"
LOGIN_CSRF_COOKIE = "ar_login_csrf"


class NotSignedIn(Exception):
    """No valid session: pages redirect to the sign-in page, other requests get 401."""


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token: 403."""


class NotAdmin(Exception):
    """A change only a client's admin reviewer may make (config, knowledge base): 403."""


def set_cookie(response: Response, rt: Runtime, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        samesite="strict", secure=rt.settings.console_cookie_secure)


def _lookup(rt: Runtime, token: str) -> SignedIn | None:
    with rt.sessions() as session:
        return reviewers.signed_in(session, credentials.token_hash(token))


async def signed_in(request: Request) -> SignedIn:
    """FastAPI dependency: the reviewer of this request's session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        raise NotSignedIn
    who = await run_in_threadpool(_lookup, request.app.state.rt, token)
    if who is None:
        raise NotSignedIn
    return who


async def admin_signed_in(request: Request) -> SignedIn:
    """FastAPI dependency: the reviewer of this session, who must be an admin of the client."""
    who = await signed_in(request)
    if not who.admin:
        raise NotAdmin
    return who


async def check_csrf(request: Request, who: SignedIn) -> dict[str, str]:
    """The request's form fields, once its CSRF token matched the session's."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    sent = request.headers.get("x-csrf-token") or fields.get("csrf") or ""
    if not hmac.compare_digest(sent.encode(), who.csrf_token.encode()):
        raise CsrfRefused
    return fields


def sign_in(rt: Runtime, client_id: str, name: str, secret: str) -> str | None:
    """A new session's token for a reviewer whose secret matches; None otherwise."""
    with rt.sessions.begin() as session:
        reviewer = reviewers.find(session, client_id, name) if client_id and name else None
        ok = credentials.verify_secret(secret, reviewer.secret_hash if reviewer else None)
        if not ok or reviewer is None:
            return None
        token = credentials.new_token()
        expires = utcnow() + timedelta(hours=rt.settings.console_session_hours)
        reviewers.open_session(session, reviewer, credentials.token_hash(token),
                               credentials.new_token()[:43], expires)
    return token


def sign_out(rt: Runtime, token: str | None) -> None:
    if token:
        with rt.sessions.begin() as session:
            reviewers.close_session(session, credentials.token_hash(token))
