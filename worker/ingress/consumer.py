"""Read both inbound streams with a consumer group: validate, store, hand over, then ACK.

Order matters: an entry is acknowledged only after its message is stored and handed to a
drafting task, so a crash anywhere before the ACK means the entry is read again, and the
(client, eventId) unique key makes the second read harmless.

E-mail goes through tenant lanes first (lanes.py): each read moves the new inbound e-mail
entries to their tenant's lane, then stores a few entries of every lane whose tenant has room
(TENANT_EMAIL_QUEUED_MAX, TENANT_MAX_IN_FLIGHT): a tenant's backlog waits in its own lane, and
every other tenant's e-mail is stored and drafted meanwhile. Chat is read directly.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

import redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from schema.events import Channel, InboundEvent
from worker.errors import BadEvent
from worker.ingress import accept
from worker.ingress.decode import claimed_ids, decode_entry
from worker.ingress.email_body import EmailParts, parse_raw_mime
from worker.ingress.normalize import accepted_message
from worker.leads import lead_secret
from worker.adapters.infrastructure import is_outage
from worker.adapters.streams import ensure_group, trim_acknowledged
from worker.adapters import lanes
from worker import metrics
from worker.logs import log
from worker.ports import Configs, Dispatcher, Handover, Sessions
from worker.settings import Settings
from worker.store import addresses, message_states, messages, rejections
from worker.store.messages import NewMessage
from worker.ingress.rejected_lead import lead_key_of_payload
from worker.store.rejections import Rejection

# An entry delivered to a consumer that died is taken over after this long.
CLAIM_IDLE_MS = 60_000
CLAIM_EVERY_SECONDS = 15.0
# An entry whose batch failed this many times is kept aside, so it cannot block the stream.
MAX_DELIVERIES = 5
# While a tenant with e-mail in its lane has no room, its lane is looked at again this often
# (workers take its waiting e-mails meanwhile).
HELD_POLL_MS = 50


@dataclass(frozen=True)
class Entry:
    stream: str
    channel: Channel
    entry_id: str
    fields: dict[bytes, bytes]

    @property
    def in_lane(self) -> bool:
        return lanes.ORIGIN_ID in self.fields

    @property
    def source(self) -> tuple[str, str]:
        """(stream, entry id) as the producer wrote it: a lane entry names its origin."""
        if self.in_lane:
            return (self.fields[lanes.ORIGIN_STREAM].decode(),
                    self.fields[lanes.ORIGIN_ID].decode())
        return self.stream, self.entry_id

    @property
    def producer_fields(self) -> dict[bytes, bytes]:
        return {k: v for k, v in self.fields.items()
                if k not in (lanes.ORIGIN_STREAM, lanes.ORIGIN_ID)}


@dataclass(frozen=True)
class BatchResult:
    stored: int
    enqueued: int
    rejected: int


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Ingress:
    """One consumer of the inbound streams of `channels` (default: both)."""

    def __init__(
        self, name: str | None = None, channels: tuple[Channel, ...] | None = None, *,
        settings: Settings, redis: redis.Redis, sessions: Sessions, configs: Configs,
        dispatcher: Dispatcher,
    ):
        self.settings, self.redis, self.sessions = settings, redis, sessions
        self.configs, self.dispatcher = configs, dispatcher
        self.name = name or consumer_name()
        s = settings
        wanted = channels or (Channel.EMAIL, Channel.CHAT)
        self.channels = {s.stream_for(c.value): c for c in wanted}
        self.group = s.consumer_group
        self._secret = lead_secret(s.lead_hash_key)
        # The inbound e-mail stream is only split into lanes; entries are read from the lanes.
        self.email_stream = s.inbound_email_stream if Channel.EMAIL in wanted else None
        self._last_trim = 0.0

    def setup(self) -> None:
        for stream in self.channels:
            ensure_group(self.redis, stream, self.group)

    def read(self, start: str = ">", block_ms: int | None = None) -> list[Entry]:
        """New entries (start '>'), or this consumer's own unacknowledged ones (start '0').

        New chat entries come first, and e-mail is read in small batches: a person waiting on
        a chat never waits for more than one short e-mail batch to be stored (issue: chat drafts
        stay fast behind an e-mail backlog)."""
        s = self.settings
        chat = s.inbound_chat_stream if Channel.CHAT in self.channels.values() else None
        if start != ">":
            if self.email_stream:  # entries read but not moved yet: move them first
                self._split(start, None)
            own = self._read({chat: start}, s.ingress_batch_size, None) if chat else []
            wanted = dict.fromkeys(self._lanes(), (start, s.ingress_batch_size))
            return own + self._entries(lanes.read_each(self.redis, self.group, self.name, wanted))
        if chat:
            chats = self._read({chat: ">"}, s.ingress_batch_size,
                               None if self.email_stream else block_ms)
            if chats or not self.email_stream:
                return chats
        self._split(">", None)
        entries, held = self._read_lanes()
        if entries or not block_ms:
            return entries
        # Nothing to store: wait for new e-mail, or (a tenant with a backlog but no room)
        # a short while for the workers to take its waiting e-mails.
        waiting = any(lanes.lengths(self.redis, held))
        self._split(">", min(block_ms, HELD_POLL_MS) if waiting else block_ms)
        return self._read_lanes()[0]

    def _read(self, streams: dict[str, str], count: int, block_ms: int | None) -> list[Entry]:
        response = self.redis.xreadgroup(
            self.group, self.name, streams, count=count, block=block_ms
        )
        return self._entries(response)

    def _entries(self, response: list | None) -> list[Entry]:
        return [
            Entry(stream_name, self.channels.get(stream_name, Channel.EMAIL),
                  entry_id.decode(), fields)
            for stream, entries in (response or [])
            for stream_name in [stream.decode() if isinstance(stream, bytes) else stream]
            for entry_id, fields in entries
            if fields is not None  # a pending entry trimmed from the stream
        ]

    def _split(self, start: str, block_ms: int | None) -> int:
        """Move inbound e-mail entries to their tenants' lanes: new ones (start '>'), or this
        consumer's own read but not moved (start '0'). Returns how many moved."""
        assert self.email_stream is not None
        response = self.redis.xreadgroup(
            self.group, self.name, {self.email_stream: start},
            count=self.settings.ingress_split_batch_size, block=block_ms,
        )
        read = [(entry_id.decode(), fields) for _, entries in (response or [])
                for entry_id, fields in entries]
        trimmed = [entry_id for entry_id, fields in read if fields is None]
        if trimmed:  # pending entries no longer in the stream: nothing to move
            self.redis.xack(self.email_stream, self.group, *trimmed)
        return lanes.split(self.redis, self.email_stream, self.group, self.name,
                           [(entry_id, fields) for entry_id, fields in read if fields is not None])

    def _lanes(self) -> dict[str, str]:
        return lanes.lanes(self.redis, self.email_stream) if self.email_stream else {}

    def _read_lanes(self) -> tuple[list[Entry], list[str]]:
        """A few new entries of every lane whose tenant has room; and the lanes held back for
        want of room (they may still hold entries)."""
        known = self._lanes()
        if not known:
            return [], []
        room = self._room(known)
        wanted = {lane: (">", n) for lane, n in room.items() if n > 0}
        held = [lane for lane, n in room.items() if n <= 0]
        return self._entries(lanes.read_each(self.redis, self.group, self.name, wanted)), held

    def _room(self, known: dict[str, str]) -> dict[str, int]:
        """lane -> how many more of its tenant's e-mails may be stored now."""
        s = self.settings
        clients = sorted({client for client in known.values() if client})
        with self.sessions() as session:
            counts = message_states.in_flight_by_client(session, Channel.EMAIL.value, clients)
        room: dict[str, int] = {}
        for lane, client in known.items():
            waiting, drafting = counts.get(client, (0, 0))
            n = min(s.ingress_email_batch_size, s.tenant_email_queued_max - waiting)
            if s.tenant_max_in_flight:
                n = min(n, s.tenant_max_in_flight - waiting - drafting)
            # Entries naming no client are routed (or kept aside) once stored: never held.
            room[lane] = n if client else s.ingress_email_batch_size
        return room

    def claim_abandoned(self) -> list[Entry]:
        """Entries a dead consumer read but never acknowledged."""
        taken: list[Entry] = []
        for stream in [*self.channels, *self._lanes()]:
            try:
                result = self.redis.xautoclaim(
                    stream, self.group, self.name, CLAIM_IDLE_MS, "0-0",
                    count=self.settings.ingress_batch_size,
                )
            except redis.ResponseError as exc:
                if stream in self.channels or not lanes.is_missing(exc):
                    raise
                continue  # a lane pruned since it was listed: nothing was pending in it
            if stream == self.email_stream:  # taken over, now ours: move them to their lanes
                self._split("0", None)
                continue
            for entry_id, fields in result[1]:
                if fields is not None:
                    taken.append(Entry(stream, self.channels.get(stream, Channel.EMAIL),
                                       entry_id.decode(), fields))
        return taken

    def handle(self, entries: list[Entry]) -> BatchResult:
        if not entries:
            return BatchResult(0, 0, 0)
        accepted: list[tuple[Entry, NewMessage]] = []
        rejected: list[Rejection] = []
        for entry in entries:
            try:
                accepted.append((entry, self._validate(entry)))
            except BadEvent as exc:
                rejected.append(self._rejection(entry, str(exc)))
                metrics.failure("ingress", type(exc).__name__)
        refs = self._store(accepted, rejected)
        handovers = [
            Handover(ref.client_id, ref.message_id, ref.channel,
                     self.settings.burst_window(ref.channel))
            for ref in refs if ref.needs_drafting
        ]
        self.dispatcher.enqueue(handovers)
        self._ack(entries)
        for r in rejected:
            log.warning(
                "ingress.event.rejected", stream=r.stream, entry_id=r.entry_id,
                client_id=r.claimed_client_id, event_id=r.event_id, reason=r.reason[:300],
            )
        return BatchResult(len(refs), len(handovers), len(rejected))

    def _validate(self, entry: Entry) -> NewMessage:
        event = decode_entry(entry.channel, entry.fields)
        parts = parse_raw_mime(event.raw_mime) if event.raw_mime is not None else None
        if event.client_id is None:
            event = self._route(event, parts)
        config = self.configs.resolve(event.client_id)
        return accepted_message(event, config, self._secret, parts)

    def _route(self, event: InboundEvent, parts: EmailParts | None) -> InboundEvent:
        """An e-mail without clientId belongs to the client that registered its recipient."""
        recipients = parts.recipients if parts else ()
        with self.sessions() as session:
            client_id = addresses.client_for(session, recipients)
        if client_id is None:
            shown = ", ".join(recipients[:5]) or "none"
            raise BadEvent(f"unroutable: no clientId and no registered recipient ({shown})")
        return event.model_copy(update={"client_id": client_id})

    def _rejection(self, entry: Entry, reason: str) -> Rejection:
        fields = entry.producer_fields
        client, event = claimed_ids(fields)
        raw = fields.get(b"payload")
        if raw is None:  # keep whatever the producer sent
            raw = b"\n".join(k + b"=" + v for k, v in fields.items())
        stream, entry_id = entry.source
        return Rejection(stream, entry_id, raw, reason, client, event,
                         lead_key_of_payload(raw, self._secret))

    def _store(
        self, accepted: list[tuple[Entry, NewMessage]], rejected: list[Rejection]
    ) -> list[messages.StoredRef]:
        try:
            with self.sessions.begin() as session:
                rejections.keep_aside(session, rejected)
                return accept.store_messages(session, [m for _, m in accepted])
        except OperationalError:
            raise  # the database is unreachable: nothing is acknowledged, the loop retries
        except DBAPIError:
            if len(accepted) + len(rejected) <= 1:
                raise
        # One row the database refuses (e.g. a value it cannot hold) must not block the rest:
        # store one by one and keep aside what still fails, with the database's reason.
        refs: list[messages.StoredRef] = []
        with self.sessions.begin() as session:
            rejections.keep_aside(session, rejected)
        for entry, message in accepted:
            try:
                with self.sessions.begin() as session:
                    refs.extend(accept.store_messages(session, [message]))
            except OperationalError:
                raise
            except DBAPIError as exc:
                reason = f"could not be stored: {str(exc.orig).splitlines()[0][:300]}"
                with self.sessions.begin() as session:
                    rejections.keep_aside(session, [self._rejection(entry, reason)])
        return refs

    def _ack(self, entries: list[Entry]) -> None:
        by_stream: dict[str, list[str]] = defaultdict(list)
        for entry in entries:
            by_stream[entry.stream].append(entry.entry_id)
        lane_streams = {entry.stream for entry in entries if entry.in_lane}
        pipe = self.redis.pipeline(transaction=False)
        for stream, ids in by_stream.items():
            pipe.xack(stream, self.group, *ids)
            if stream in lane_streams:  # a lane entry is a copy only we read: gone once done
                pipe.xdel(stream, *ids)
        pipe.execute()

    def set_aside_poison(self, reason: str) -> int:
        """Keep aside this consumer's pending entries delivered MAX_DELIVERIES times or more."""
        poisoned = []
        streams = [s for s in self.channels if s != self.email_stream] + list(self._lanes())
        for stream in streams:
            channel = self.channels.get(stream, Channel.EMAIL)
            try:
                pending = self.redis.xpending_range(
                    stream, self.group, min="-", max="+",
                    count=self.settings.ingress_batch_size, consumername=self.name,
                )
            except redis.ResponseError as exc:
                if stream in self.channels or not lanes.is_missing(exc):
                    raise
                continue  # a lane pruned since it was listed: nothing was pending in it
            for item in pending:
                if item["times_delivered"] < MAX_DELIVERIES:
                    continue
                entry_id = item["message_id"].decode()
                found = self.redis.xrange(stream, entry_id, entry_id)
                fields = found[0][1] if found else {b"payload": b""}
                poisoned.append(Entry(stream, channel, entry_id, fields))
        if not poisoned:
            return 0
        why = f"processing failed {MAX_DELIVERIES} times; last error: {reason}"
        with self.sessions.begin() as session:
            rejections.keep_aside(session, [self._rejection(e, why) for e in poisoned])
        self._ack(poisoned)
        log.error("ingress.event.poison", count=len(poisoned), reason=why[:300])
        return len(poisoned)

    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set: first this consumer's own leftovers, then new entries."""
        self.setup()
        log.info("ingress.started", consumer=self.name, streams=list(self.channels))
        self.handle(self.read(start="0"))
        last_claim = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() - last_claim > CLAIM_EVERY_SECONDS:
                    last_claim = time.monotonic()
                    self.handle(self.claim_abandoned())
                self._trim_now_and_then()
                result = self.handle(self.read(block_ms=self.settings.ingress_block_ms))
                if result.stored or result.rejected:
                    log.info(
                        "ingress.batch", stored=result.stored, enqueued=result.enqueued,
                        rejected=result.rejected,
                    )
            except Exception as exc:  # noqa: BLE001 - keep the loop alive; nothing was ACKed
                error = f"{type(exc).__name__}: {exc}"[:500]
                log.error("ingress.batch.failed", error=error)
                stop.wait(1.0)
                if is_outage(exc):
                    self._wait_for_services(stop)
                else:
                    self._recover(error)
        log.info("ingress.stopped", consumer=self.name)

    def _trim_now_and_then(self) -> None:
        """Keep Redis bounded: drop inbound entries every group acknowledged long enough ago,
        then the tenant lanes left empty (one-off clients would otherwise leave one each)."""
        s = self.settings
        if time.monotonic() - self._last_trim < s.inbound_trim_every_seconds:
            return
        self._last_trim = time.monotonic()
        for stream in self.channels:
            trim_acknowledged(self.redis, stream, s.inbound_retention_seconds)
        if self.email_stream:
            if pruned := lanes.prune(self.redis, self.email_stream, self.group):
                log.info("ingress.lanes.pruned", count=pruned)

    def _wait_for_services(self, stop: threading.Event) -> None:
        """Postgres or Redis is down: entries stay pending, untouched, until both answer again
        (re-reading them meanwhile would count outage retries as failed deliveries). A Redis
        that came back empty has lost our consumer group: create it again."""
        while not stop.is_set():
            try:
                self.redis.ping()
                with self.sessions() as session:
                    session.execute(text("SELECT 1"))
                self.setup()
                break
            except Exception as exc:  # noqa: BLE001 - still down
                log.warning("ingress.waiting_for_services", error=f"{type(exc).__name__}"[:200])
                stop.wait(1.0)
        log.info("ingress.services_back", consumer=self.name)
        self._retry_leftovers()

    def _recover(self, error: str) -> None:
        """After a failed batch its entries are still pending for us: set aside repeat
        offenders, then retry the rest."""
        try:
            self.set_aside_poison(error)
        except Exception as exc:  # noqa: BLE001 - Redis or Postgres still down: next loop
            log.error("ingress.recover.failed", error=f"{type(exc).__name__}: {exc}"[:500])
            return
        self._retry_leftovers()

    def _retry_leftovers(self) -> None:
        """Handle this consumer's pending entries one by one, so one bad entry cannot hold the
        others back; what still fails stays pending and counts towards MAX_DELIVERIES."""
        try:
            leftovers = self.read(start="0")
        except Exception as exc:  # noqa: BLE001 - still down: the main loop takes it from here
            log.error("ingress.recover.failed", error=f"{type(exc).__name__}: {exc}"[:500])
            return
        for entry in leftovers:
            try:
                self.handle([entry])
            except Exception as exc:  # noqa: BLE001 - stays pending; counted towards the bound
                log.error(
                    "ingress.recover.failed", entry_id=entry.entry_id,
                    error=f"{type(exc).__name__}: {exc}"[:500],
                )

