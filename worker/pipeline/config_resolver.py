"""Stage: which agent config applies to a client right now (cached per process)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from cachetools import TTLCache
from sqlalchemy.orm import Session

from schema.agent_config import AgentConfigFields, ResolvedConfig
from worker.store import tenants

_UNKNOWN = object()
# A client registered a moment ago must not wait a whole TTL to be recognised.
_NEGATIVE_TTL_SECONDS = 5.0


class ConfigResolver:
    """LRU+TTL cache of each client's active config.

    A config change is announced over Redis pub/sub (worker.adapters.invalidation), which drops
    the entry in every process at once; the TTL only bounds how stale an entry can be when such
    a message is lost.
    """

    def __init__(self, sessions: Callable[[], Session], size: int = 500, ttl: float = 60.0):
        self._sessions = sessions
        self._cache: TTLCache = TTLCache(maxsize=size, ttl=ttl)
        self._unknown: TTLCache = TTLCache(maxsize=size, ttl=min(ttl, _NEGATIVE_TTL_SECONDS))
        self._lock = threading.Lock()
        # Bumped by every invalidation: a load that started before one is not cached after it,
        # so a reader racing a config change cannot put the old config back for a whole TTL.
        self._generation = 0

    def cached(self, client_id: str) -> ResolvedConfig | None:
        """The cached config if there is one (no IO): for callers on an event loop."""
        with self._lock:
            hit = self._cache.get(client_id)
        return hit

    def resolve(self, client_id: str) -> ResolvedConfig | None:
        """The client's config, defaults if it has none active, None if the client is unknown."""
        with self._lock:
            hit = self._cache.get(client_id) or self._unknown.get(client_id)
            generation = self._generation
        if hit is not None:
            return None if hit is _UNKNOWN else hit
        resolved = self._load(client_id)
        with self._lock:
            if generation == self._generation:
                if resolved is None:
                    self._unknown[client_id] = _UNKNOWN
                else:
                    self._cache[client_id] = resolved
        return resolved

    def invalidate(self, client_id: str | None = None) -> None:
        with self._lock:
            self._generation += 1
            if client_id is None:
                self._cache.clear()
                self._unknown.clear()
            else:
                self._cache.pop(client_id, None)
                self._unknown.pop(client_id, None)

    def _load(self, client_id: str) -> ResolvedConfig | None:
        with self._sessions() as session:
            row = tenants.active_config(session, client_id)
            if row is not None:
                fields = AgentConfigFields.model_validate(row.fields)
                return ResolvedConfig(
                    client_id=client_id, config_id=row.id, version=row.version, fields=fields
                )
            if not tenants.client_exists(session, client_id):
                return None
        return ResolvedConfig(
            client_id=client_id, config_id=None, version=0, fields=AgentConfigFields()
        )
