"""Read both inbound streams with a consumer group: validate, store, hand over, then ACK.

Order matters: an entry is acknowledged only after its message is stored and handed to a
drafting task, so a crash anywhere before the ACK means the entry is read again, and the
(client, eventId) unique key makes the second read harmless.
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
from worker.adapters.streams import ensure_group
from worker import metrics
from worker.logs import log
from worker.ports import Configs, Dispatcher, Sessions
from worker.settings import Settings
from worker.store import addresses, messages, rejections
from worker.store.messages import NewMessage
from worker.ingress.rejected_lead import lead_key_of_payload
from worker.store.rejections import Rejection

# An entry delivered to a consumer that died is taken over after this long.
CLAIM_IDLE_MS = 60_000
CLAIM_EVERY_SECONDS = 15.0
# An entry whose batch failed this many times is kept aside, so it cannot block the stream.
MAX_DELIVERIES = 5


@dataclass(frozen=True)
class Entry:
    stream: str
    channel: Channel
    entry_id: str
    fields: dict[bytes, bytes]


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

    def setup(self) -> None:
        for stream in self.channels:
            ensure_group(self.redis, stream, self.group)

    def read(self, start: str = ">", block_ms: int | None = None) -> list[Entry]:
        """New entries (start '>'), or this consumer's own unacknowledged ones (start '0').

        New chat entries come first, and e-mail is read in small batches: a person waiting on
        a chat never waits for more than one short e-mail batch to be stored (issue: chat drafts
        stay fast behind an e-mail backlog)."""
        s = self.settings
        if start != ">":
            return self._read(dict.fromkeys(self.channels, start), s.ingress_batch_size, None)
        if len(self.channels) > 1:
            chats = self._read({s.inbound_chat_stream: ">"}, s.ingress_batch_size, None)
            if chats:
                return chats
        email = s.inbound_email_stream in self.channels
        count = s.ingress_email_batch_size if email else s.ingress_batch_size
        return self._read(dict.fromkeys(self.channels, ">"), count, block_ms)

    def _read(self, streams: dict[str, str], count: int, block_ms: int | None) -> list[Entry]:
        response = self.redis.xreadgroup(
            self.group, self.name, streams, count=count, block=block_ms
        )
        return [
            Entry(stream_name, self.channels[stream_name], entry_id.decode(), fields)
            for stream, entries in (response or [])
            for stream_name in [stream.decode() if isinstance(stream, bytes) else stream]
            for entry_id, fields in entries
            if fields is not None  # a pending entry trimmed from the stream
        ]

    def claim_abandoned(self) -> list[Entry]:
        """Entries a dead consumer read but never acknowledged."""
        taken: list[Entry] = []
        for stream, channel in self.channels.items():
            result = self.redis.xautoclaim(
                stream, self.group, self.name, CLAIM_IDLE_MS, "0-0",
                count=self.settings.ingress_batch_size,
            )
            for entry_id, fields in result[1]:
                if fields is not None:
                    taken.append(Entry(stream, channel, entry_id.decode(), fields))
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
        enqueued = 0
        for ref in refs:
            if ref.needs_drafting:
                self.dispatcher.enqueue(ref.client_id, ref.message_id, ref.channel)
                enqueued += 1
        self._ack(entries)
        for r in rejected:
            log.warning(
                "ingress.event.rejected", stream=r.stream, entry_id=r.entry_id,
                client_id=r.claimed_client_id, event_id=r.event_id, reason=r.reason[:300],
            )
        return BatchResult(len(refs), enqueued, len(rejected))

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
        client, event = claimed_ids(entry.fields)
        raw = entry.fields.get(b"payload")
        if raw is None:  # keep whatever the producer sent
            raw = b"\n".join(k + b"=" + v for k, v in entry.fields.items())
        return Rejection(entry.stream, entry.entry_id, raw, reason, client, event,
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
        pipe = self.redis.pipeline(transaction=False)
        for stream, ids in by_stream.items():
            pipe.xack(stream, self.group, *ids)
        pipe.execute()

    def set_aside_poison(self, reason: str) -> int:
        """Keep aside this consumer's pending entries delivered MAX_DELIVERIES times or more."""
        poisoned = []
        for stream, channel in self.channels.items():
            pending = self.redis.xpending_range(
                stream, self.group, min="-", max="+",
                count=self.settings.ingress_batch_size, consumername=self.name,
            )
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

