"""Redis streams: the inbound consumer group and the outbound publisher."""

from __future__ import annotations

import orjson
import redis

# Outbound entries are kept for reviewers; trimmed only far beyond any review backlog.
OUTBOUND_MAXLEN = 1_000_000


def ensure_group(client: redis.Redis, stream: str, group: str) -> None:
    """Create the consumer group at the start of the stream (so nothing appended before is lost)."""
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class RedisStreamPublisher:
    def __init__(self, client: redis.Redis):
        self._client = client

    def publish(self, stream: str, payloads: list[dict]) -> None:
        if not payloads:
            return
        pipe = self._client.pipeline(transaction=False)
        for payload in payloads:
            pipe.xadd(
                stream,
                {"payload": orjson.dumps(payload)},
                maxlen=OUTBOUND_MAXLEN,
                approximate=True,
            )
        pipe.execute()

    def notify(self, channel: str, payload: dict) -> None:
        self._client.publish(channel, orjson.dumps(payload))
