"""Redis streams: the inbound consumer group and the outbound publisher."""

from __future__ import annotations

import time
from collections.abc import Sequence

import orjson
import redis

# Outbound entries are kept for reviewers; trimmed only far beyond any review backlog.
OUTBOUND_MAXLEN = 1_000_000


def ensure_group(
    client: redis.Redis, stream: str, group: str, *, create_stream: bool = True
) -> None:
    """Create the consumer group at the start of the stream (so nothing appended before is lost).
    With create_stream=False a missing stream is left missing, without a group: a tenant lane
    pruned by another ingress must not come back empty (a producer's XADD re-creates it)."""
    try:
        client.xgroup_create(stream, group, id="0", mkstream=create_stream)
    except redis.ResponseError as exc:
        if "BUSYGROUP" in str(exc):
            return
        if not create_stream and "requires the key to exist" in str(exc):
            return
        raise


def trim_acknowledged(client: redis.Redis, stream: str, retention_seconds: float) -> int:
    """Delete the entries of `stream` older than `retention_seconds` that every consumer group
    has read and acknowledged; never one still unread or pending in any group. Returns how many
    were deleted. Stream ids start with their time in ms, so XTRIM MINID cuts by age."""
    try:
        groups = client.xinfo_groups(stream)
    except redis.ResponseError:  # no such stream
        return 0
    if not groups:
        return 0  # nobody reads it yet: keep everything for the first group
    keep_from = int((time.time() - retention_seconds) * 1000)
    oldest_needed = (keep_from, 0)
    for group in groups:
        name = group["name"]
        if group["pending"]:
            pending = client.xpending(stream, name)
            oldest_needed = min(oldest_needed, _id(pending["min"]))
        # Entries after the group's last-delivered id are unread.
        last_ms, last_seq = _id(group["last-delivered-id"])
        oldest_needed = min(oldest_needed, (last_ms, last_seq + 1))
    ms, seq = oldest_needed
    return client.xtrim(stream, minid=f"{ms}-{seq}", approximate=False)


def _id(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


class RedisStreamPublisher:
    def __init__(self, client: redis.Redis):
        self._client = client

    def publish(
        self, stream: str, payloads: list[dict], notices: Sequence[tuple[str, dict]] = ()
    ) -> None:
        if not payloads and not notices:
            return
        # One pipeline: a draft's XADD and its pub/sub notices cost one round trip, not three.
        pipe = self._client.pipeline(transaction=False)
        for payload in payloads:
            pipe.xadd(
                stream,
                {"payload": orjson.dumps(payload)},
                maxlen=OUTBOUND_MAXLEN,
                approximate=True,
            )
        for channel, payload in notices:
            pipe.publish(channel, orjson.dumps(payload))
        pipe.execute()

    def notify(self, channel: str, payload: dict) -> None:
        self._client.publish(channel, orjson.dumps(payload))
