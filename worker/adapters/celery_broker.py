"""The Redis broker transport, with one guard around an upstream crash.

kombu 5.7: when the broker connection drops, Celery closes the old connection and reconnects.
Work still tied to the old channel — restoring its unacknowledged messages while it closes, or
acking/rejecting a task that finished on it afterwards — then builds a Redis client from a
connection that is already torn down and raises `AttributeError: 'NoneType' object has no
attribute 'client'` (or `'hostname'`) in `_connparams`. Those call sites only tolerate
connection errors, so the AttributeError stopped the worker (exit 0) — in about 1 of 6 runs of
fault scenario 2 (Redis restarted mid-run).

The guard turns that state into what it is, a connection error, which kombu and Celery already
handle (log it, reconnect). Nothing is lost: a message that could not be acked or restored stays
in Redis's unacked set and comes back after the visibility timeout, Postgres's sweeper hands its
message to a worker once the lease expires, and the draft's unique keys make the second delivery
harmless.
"""

from __future__ import annotations

import redis
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection is None or self.connection.client is None:
            raise redis.exceptions.ConnectionError("broker channel used after its connection closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
