"""Sign-in rate limit: failed attempts counted in Redis per client + name and per IP address,
so the limit holds across every API process. A success clears the name's count."""

from __future__ import annotations

import hashlib

import redis

WINDOW_SECONDS = 15 * 60
MAX_PER_NAME = 10  # failed attempts on one login per window
MAX_PER_IP = 50  # failed attempts from one address per window


def _keys(namespace: str, client_id: str, name: str, ip: str) -> tuple[str, str]:
    login = hashlib.sha256(f"{client_id}\x00{name}".encode()).hexdigest()[:32]
    return (f"{namespace}:console:signin:login:{login}",
            f"{namespace}:console:signin:ip:{ip[:64]}")


def blocked_for(r: redis.Redis, namespace: str, client_id: str, name: str, ip: str) -> int:
    """Seconds until another attempt is allowed; 0 when it is allowed now."""
    login_key, ip_key = _keys(namespace, client_id, name, ip)
    wait = 0
    for key, limit in ((login_key, MAX_PER_NAME), (ip_key, MAX_PER_IP)):
        count = r.get(key)
        if count is not None and int(count) >= limit:
            wait = max(wait, max(int(r.ttl(key)), 1))
    return wait


def failed(r: redis.Redis, namespace: str, client_id: str, name: str, ip: str) -> None:
    """Counts a failure; the window starts at a login's (or address's) first failure. (Not
    EXPIRE … NX: that needs Redis 7, and `demo`/`up` run Redis 6.2.)"""
    for key in _keys(namespace, client_id, name, ip):
        pipe = r.pipeline()  # MULTI: created with its expiry, then counted; INCR keeps the TTL
        pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
        pipe.incr(key)
        pipe.execute()


def succeeded(r: redis.Redis, namespace: str, client_id: str, name: str, ip: str) -> None:
    r.delete(_keys(namespace, client_id, name, ip)[0])
