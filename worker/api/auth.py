"""Who is calling: an API key in `X-API-Key` (or `Authorization: Bearer …`).

A client key acts for its own client only: the client comes from the key, never from the
request. An admin key (operators) names the client it acts for in `X-Client-Id`. Anything of
another client is answered 404, exactly as if it did not exist.

Keys are cached per process for API_KEY_CACHE_SECONDS; `agent-runtime keys revoke` announces
the change over Redis so every API process forgets the key at once.
"""

from __future__ import annotations

import hmac
import threading

from cachetools import TTLCache
from fastapi import Depends, HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from worker.bootstrap import Runtime
from worker.store import api_keys, tenants
from worker.store.api_keys import Caller

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")
_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_client_header = APIKeyHeader(
    name="X-Client-Id", auto_error=False, scheme_name="ClientId",
    description="Admin keys only: the client to act for",
)
_NOT_FOUND = object()


class KeyCache:
    """key hash → Caller (or a short-lived 'no such key')."""

    def __init__(self, ttl: float):
        self._found: TTLCache = TTLCache(maxsize=10_000, ttl=ttl)
        self._missing: TTLCache = TTLCache(maxsize=10_000, ttl=min(ttl, 2.0))
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> Caller | object | None:
        with self._lock:
            return self._found.get(key_hash) or self._missing.get(key_hash)

    def put(self, key_hash: str, caller: Caller | None) -> None:
        with self._lock:
            if caller is None:
                self._missing[key_hash] = _NOT_FOUND
            else:
                self._found[key_hash] = caller

    def invalidate(self, _key: str | None = None) -> None:
        with self._lock:
            self._found.clear()
            self._missing.clear()


def runtime(request: Request) -> Runtime:
    return request.app.state.rt


def _lookup(rt: Runtime, key: str) -> Caller | None:
    with rt.sessions() as session:
        return api_keys.caller_for(session, key)


async def caller(
    request: Request,
    api_key: str | None = Security(_api_key),
    bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
) -> Caller:
    key = api_key or (bearer.credentials if bearer else None)
    if not key:
        raise HTTPException(401, "missing API key (X-API-Key header)",
                            headers={"WWW-Authenticate": "Bearer"})
    cache: KeyCache = request.app.state.keys
    key_hash = api_keys.hash_key(key)
    found = cache.get(key_hash)
    if found is None:
        found = await run_in_threadpool(_lookup, request.app.state.rt, key)
        cache.put(key_hash, found)
    if not isinstance(found, Caller):
        raise HTTPException(401, "unknown or revoked API key",
                            headers={"WWW-Authenticate": "Bearer"})
    return found


async def admin(who: Caller = Depends(caller)) -> Caller:
    if not who.is_admin:
        raise HTTPException(403, "this needs an admin key")
    return who


async def client_id(
    request: Request,
    who: Caller = Depends(caller),
    acting_for: str | None = Security(_client_header),
) -> str:
    """The client this request acts for."""
    if not who.is_admin:
        assert who.client_id is not None
        return who.client_id
    if not acting_for:
        raise HTTPException(400, "an admin key must name the client in X-Client-Id")
    rt = request.app.state.rt
    if rt.configs.cached(acting_for) is None:
        exists = await run_in_threadpool(_client_exists, rt, acting_for)
        if not exists:
            raise HTTPException(404, f"no client {acting_for!r}")
    return acting_for


def _client_exists(rt: Runtime, cid: str) -> bool:
    with rt.sessions() as session:
        return tenants.client_exists(session, cid)


def optional_client_id(
    request: Request,
    who: Caller = Depends(caller),
    acting_for: str | None = Security(_client_header),
) -> str | None:
    """Like client_id, but an admin may name no client (deployment-wide views)."""
    if not who.is_admin:
        return who.client_id
    return acting_for or None


async def may_scrape(request: Request) -> bool:
    """GET /metrics: the scrape token (METRICS_TOKEN, as a bearer) or an admin key."""
    header = request.headers.get("authorization", "")
    offered = header[7:].strip() if header.lower().startswith("bearer ") else ""
    token = request.app.state.rt.settings.metrics_token
    if token is not None and offered and hmac.compare_digest(
            offered.encode(), token.get_secret_value().encode()):
        return True
    key = request.headers.get("x-api-key") or offered
    if not key:
        return False
    cache: KeyCache = request.app.state.keys
    key_hash = api_keys.hash_key(key)
    found = cache.get(key_hash)
    if found is None:
        found = await run_in_threadpool(_lookup, request.app.state.rt, key)
        cache.put(key_hash, found)
    return isinstance(found, Caller) and found.is_admin
