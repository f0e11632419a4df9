"""Cache invalidation across processes over Redis pub/sub.

A writer publishes "this changed" (a client's config, an API key); every process runs one
listener thread, started after fork, that drops its cached copy at once. Pub/sub has no
delivery guarantee, so every cache keeps a TTL as the backstop, and a listener that lost its
connection clears everything when it is back (it may have missed messages meanwhile).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import redis

from worker.logs import log

ALL = "*"  # message body meaning "everything of this kind"


def channel(namespace: str, topic: str) -> str:
    return f"{namespace}:invalidate:{topic}"


def announce(client: redis.Redis, namespace: str, topic: str, key: str = ALL) -> None:
    """Tell every process that `key` of `topic` changed. Best effort: the TTL covers a loss."""
    try:
        client.publish(channel(namespace, topic), key)
    except redis.RedisError as exc:
        log.warning("cache.announce.failed", topic=topic, error=f"{type(exc).__name__}: {exc}")


Handler = Callable[[str | None], None]  # None: drop everything


class InvalidationListener:
    """One thread per process: calls `handlers[topic](key)` for each message."""

    def __init__(self, client: redis.Redis, namespace: str, handlers: dict[str, Handler]):
        self._client = client
        self._handlers = {channel(namespace, t): h for t, h in handlers.items()}
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cache-invalidation", daemon=True)

    def start(self) -> InvalidationListener:
        self._thread.start()
        return self

    def wait_subscribed(self, timeout: float = 5.0) -> bool:
        return self._subscribed.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(*self._handlers)
                self._drop_all()  # whatever was published while we were not listening
                self._subscribed.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._dispatch(message)
            except redis.RedisError as exc:
                self._subscribed.clear()
                log.warning("cache.listener.disconnected", error=f"{type(exc).__name__}: {exc}")
                self._stop.wait(1.0)
            finally:
                pubsub.close()

    def _dispatch(self, message: dict) -> None:
        name = message["channel"]
        handler = self._handlers.get(name.decode() if isinstance(name, bytes) else name)
        if handler is None:
            return
        key = message["data"]
        key = key.decode() if isinstance(key, bytes) else str(key)
        handler(None if key == ALL else key)

    def _drop_all(self) -> None:
        for handler in self._handlers.values():
            handler(None)
