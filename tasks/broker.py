"""The Redis broker transport, with one guard around an upstream crash.

kombu 5.7: when the broker connection drops, Celery closes the old connection, and closing its
channel restores the channel's unacknowledged messages. If the kombu connection was already
torn down, the restore builds a Redis client from it and raises
`AttributeError: 'NoneType' object has no attribute 'hostname'` (kombu/transport/redis.py
`_connparams`); Celery treats that as fatal and the worker stops (exit 0). Seen in about 1 of 6
runs of fault scenario 2 (Redis restarted mid-run).

The guard skips the restore in exactly that state. Nothing is lost: the messages stay in
Redis's unacked set and come back after the visibility timeout, and Postgres's sweeper hands
their messages to a worker as soon as their lease expires; the draft's unique keys make a
second delivery harmless.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis

from worker.logs import log


class QoS(kombu_redis.QoS):
    def restore_unacked(self, client=None):  # noqa: ANN001, ANN201 - kombu's signature
        transport = self.channel.connection
        if client is None and (transport is None or transport.client is None):
            log.warning("broker.restore_skipped", unacked=len(self._delivered),
                        reason="connection already torn down")
            return None
        return super().restore_unacked(client)


class Channel(kombu_redis.Channel):
    QoS = QoS


class Transport(kombu_redis.Transport):
    Channel = Channel
