"""Tenant lanes: the inbound e-mail stream split into one Redis stream per tenant.

Why: the inbound stream is FIFO, so one dealer's backlog (a bulk import, a mail loop) sits in
front of every other dealer's e-mail, and storing an e-mail costs milliseconds. Moving an entry
to its tenant's lane costs microseconds, so the ingress gets past any backlog at once, then
stores a few entries of every lane per read: each tenant waits behind its own backlog only.

Durability is the stream's: an entry is appended to its lane and acknowledged on the inbound
stream in one MULTI/EXEC, so it is in exactly one place at any time. Lanes are ordinary streams
with the same consumer group, so a crashed ingress's lane entries are taken over (XAUTOCLAIM)
and poison entries set aside exactly as on the inbound stream. Each lane entry carries the
producer's stream and entry id, so a kept-aside event names the entry the producer wrote.

Several ingress processes share the work: the group hands each entry to one of them, and the
registry (a hash lane -> clientId) is written with every move.

A lane left empty is pruned (its stream, group and registry entry deleted), so one-off clients
do not leave a stream each in Redis for ever. This is safe because it is one Lua script, atomic
in Redis, that deletes a lane only while it holds no entry and its group none pending (a lane
whose entry is read but not acknowledged is kept, so nothing in flight loses its group). A move
after the delete re-creates the stream with its XADD and the registry entry in the same
MULTI/EXEC; an ingress that listed the lane before the delete gets NOGROUP, skips it and
creates the group again only if the stream exists again (at "0": the new entries are read),
never an empty stream (ensure_group(create_stream=False)), so no lane outlives the registry.
"""

from __future__ import annotations

import hashlib

import orjson
import redis

from worker.adapters.streams import ensure_group

# Fields a lane entry adds to the producer's: where it came from.
ORIGIN_STREAM = b"_origin_stream"
ORIGIN_ID = b"_origin_id"
# The lane of entries whose payload names no usable clientId (e.g. routed by recipient later).
UNKNOWN = ""

# KEYS: lane, registry; ARGV: group. 1 if it deleted the lane or its registry entry, else 0
# (XLEN of a missing lane is 0; a lane without the group has nothing pending in it).
_PRUNE = """
if redis.call('XLEN', KEYS[1]) > 0 then return 0 end
local deleted = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  local pending = redis.pcall('XPENDING', KEYS[1], ARGV[1])
  if not pending.err and pending[1] > 0 then return 0 end
  deleted = redis.call('DEL', KEYS[1])
end
return math.max(deleted, redis.call('HDEL', KEYS[2], KEYS[1]))
"""


def registry_key(stream: str) -> str:
    return f"{stream}:lanes"


def lane_of(stream: str, client_id: str) -> str:
    """The lane stream of a claimed clientId (hashed: a clientId is untrusted text)."""
    digest = hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return f"{stream}:lane:{digest}"


def claimed_client(fields: dict[bytes, bytes]) -> str:
    """The clientId the payload claims, or UNKNOWN; validation happens later, in its lane.
    Only a value that could be a stored client id names a lane: the lane's client is looked
    up in Postgres, which refuses NUL and unpaired surrogates (the event is kept aside anyway)."""
    try:
        data = orjson.loads(fields.get(b"payload", b""))
    except orjson.JSONDecodeError:
        return UNKNOWN
    client = data.get("clientId") if isinstance(data, dict) else None
    if not isinstance(client, str) or not 0 < len(client) <= 200 or not client.strip():
        return UNKNOWN
    if "\x00" in client:
        return UNKNOWN
    try:
        client.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return UNKNOWN
    return client


def lanes(client: redis.Redis, stream: str) -> dict[str, str]:
    """lane stream -> clientId ("" for the lane of entries without one)."""
    raw = client.hgetall(registry_key(stream))
    return {k.decode(): v.decode("utf-8", "surrogatepass") for k, v in raw.items()}


def split(
    client: redis.Redis, stream: str, group: str, consumer: str,
    entries: list[tuple[str, dict[bytes, bytes]]],
) -> int:
    """Move entries read from `stream` (by `consumer`) to their tenants' lanes, acknowledging
    them on `stream` in the same transaction. Returns how many moved."""
    if not entries:
        return 0
    by_lane: dict[str, str] = {}
    moves = []
    for entry_id, fields in entries:
        tenant = claimed_client(fields)
        lane = lane_of(stream, tenant)
        by_lane[lane] = tenant
        moves.append((lane, {**fields, ORIGIN_STREAM: stream.encode(), ORIGIN_ID: entry_id.encode()}))
    # The group exists before its first entry (created at "0": nothing appended is skipped),
    # also after a Redis that lost everything.
    for lane in by_lane:
        ensure_group(client, lane, group)
    pipe = client.pipeline(transaction=True)
    pipe.hset(registry_key(stream), mapping=by_lane)
    for lane, fields in moves:
        pipe.xadd(lane, fields)
    pipe.xack(stream, group, *[entry_id for entry_id, _ in entries])
    pipe.execute()
    return len(moves)


def read_each(
    client: redis.Redis, group: str, consumer: str, wanted: dict[str, tuple[str, int]],
) -> list:
    """XREADGROUP every lane of `wanted` (lane -> (start id, count)) in one pipeline, in
    XREADGROUP's reply shape. A lane pruned by another ingress since it was listed is skipped;
    its group is made again only if a move re-created the stream meanwhile."""
    if not wanted:
        return []
    pipe = client.pipeline(transaction=False)
    for lane, (start, count) in wanted.items():
        pipe.xreadgroup(group, consumer, {lane: start}, count=count)
    replies = []
    for lane, result in zip(wanted, pipe.execute(raise_on_error=False)):
        if isinstance(result, redis.ResponseError):
            if not is_missing(result):
                raise result
            ensure_group(client, lane, group, create_stream=False)
            continue
        replies.extend(result or [])
    return replies


def lengths(client: redis.Redis, names: list[str]) -> list[int]:
    """How many entries each of these lanes holds (one pipeline; 0 for a missing lane)."""
    if not names:
        return []
    pipe = client.pipeline(transaction=False)
    for lane in names:
        pipe.xlen(lane)
    return pipe.execute()


def prune(client: redis.Redis, stream: str, group: str) -> int:
    """Delete every lane of `stream` left empty, with nothing pending in `group`, and its
    registry entry (one atomic script per lane, all in one pipeline). Returns how many."""
    known = client.hkeys(registry_key(stream))
    if not known:
        return 0
    script = client.register_script(_PRUNE)
    pipe = client.pipeline(transaction=False)
    for lane in known:
        script(keys=[lane, registry_key(stream)], args=[group], client=pipe)
    return sum(pipe.execute())


def is_missing(error: Exception) -> bool:
    """Whether a lane command failed because the lane (or its group) is gone: pruned by
    another ingress between listing the lanes and reading them."""
    return isinstance(error, redis.ResponseError) and "NOGROUP" in str(error)
