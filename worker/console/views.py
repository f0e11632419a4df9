"""What the console pages show, read for one client: queue rows and a draft with its thread,
the memory and documents that shaped it, and how it was reviewed. No HTML here: templates
render every string autoescaped, so lead and model text stay inert."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from worker.pipeline.snippet import snippet
from worker.store import drafts, kb_documents, memory_search, messages, review_queue
from worker.store.models import Draft, utcnow
from worker.store.review_queue import QueueFilter
from worker.statuses import DraftStatus

AGES = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}
STATUSES = tuple(DraftStatus)
CHANNELS = ("email", "chat")
REJECT_REASONS = (
    "Wrong or made-up facts",
    "Wrong tone for us",
    "Promises we cannot keep (price, availability, dates)",
    "Needs a person, not a reply",
    "Does not answer the question",
    "Spam or not a real lead",
    "Other",
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Filters:
    status: str = DraftStatus.PENDING_REVIEW  # "" = all
    channel: str = ""
    age: str = ""
    flagged: bool = False
    order: str = "newest"  # or "oldest": the draft waiting longest first

    @classmethod
    def parse(cls, params: dict[str, str]) -> Filters:
        status = params.get("status", DraftStatus.PENDING_REVIEW)
        return cls(
            status=status if status in STATUSES or status == "" else DraftStatus.PENDING_REVIEW,
            channel=params.get("channel", "") if params.get("channel") in CHANNELS else "",
            age=params.get("age", "") if params.get("age") in AGES else "",
            flagged=params.get("flagged") in ("1", "on", "true"),
            order="oldest" if params.get("order") == "oldest" else "newest",
        )

    def query(self) -> QueueFilter:
        since = utcnow() - AGES[self.age] if self.age else None
        return QueueFilter(status=self.status or None, channel=self.channel or None,
                           since=since, flagged=self.flagged,
                           oldest_first=self.order == "oldest")

    def as_params(self) -> dict[str, str]:
        out = {"status": self.status, "channel": self.channel, "age": self.age,
               "order": self.order}
        if self.flagged:
            out["flagged"] = "1"
        return out


@dataclass
class QueueRow:
    id: str
    channel: str
    status: str
    created_at: datetime
    lead: str
    preview: str
    flags: list[dict[str, str]]
    needs_human: bool
    degraded: bool


def flags_of(draft: Draft) -> list[dict[str, str]]:
    """Guardrail flags as {code, detail} (the column exists once issue 11's migration ran)."""
    raw = getattr(draft, "flags", None) or []
    return [{"code": str(f.get("code", "")), "detail": str(f.get("detail") or "")}
            if isinstance(f, dict) else {"code": str(f), "detail": ""} for f in raw]


def queue_rows(session: Session, client_id: str, filters: Filters) -> list[QueueRow]:
    rows = review_queue.list_queue(session, client_id, filters.query())
    lines = review_queue.lead_lines(session, client_id, [d.inbound_message_id for d in rows])
    out = []
    for d in rows:
        line = lines.get(d.inbound_message_id)
        subject = line.subject + " — " if line and line.subject else ""
        words = subject + (line.text if line else "")
        out.append(QueueRow(
            id=d.id, channel=d.channel, status=d.status, created_at=d.created_at,
            lead=(line.lead_name if line and line.lead_name else d.lead_id) or "unknown lead",
            preview=" ".join(words.split())[:140], flags=flags_of(d),
            needs_human=bool(getattr(d, "needs_human", False)), degraded=d.degraded,
        ))
    return out


@dataclass
class ThreadMessage:
    received_at: datetime
    subject: str | None
    text: str  # the lead's new words
    quoted: str | None  # the full body, when it holds more than the new words


@dataclass
class Ref:
    kind: str
    score: float
    title: str
    snippet: str


@dataclass
class DraftView:
    draft: Draft
    lead: str
    thread: list[ThreadMessage]
    refs: list[Ref]
    flags: list[dict[str, str]]
    needs_human: bool
    diff: list[tuple[str, str]] = field(default_factory=list)  # (op, text) for edited drafts
    extra: dict[str, Any] = field(default_factory=dict)


def draft_view(session: Session, client_id: str, draft_id: str) -> DraftView | None:
    draft = drafts.get_draft(session, client_id, draft_id)
    if draft is None:
        return None
    message = messages.get_message(session, client_id, draft.inbound_message_id)
    thread: list[ThreadMessage] = []
    lead = draft.lead_id or "unknown lead"
    words: list[str] = []
    if message is not None:
        earlier = review_queue.earlier_messages(session, client_id, message, 10)
        thread = [_thread_message(m) for m in reversed(earlier)] + [_thread_message(message)]
        lead = message.lead_name or lead
        words = _WORD.findall(message.new_text)[:30]
    return DraftView(
        draft=draft, lead=lead, thread=thread, refs=_refs(session, client_id, draft, words),
        flags=flags_of(draft), needs_human=bool(getattr(draft, "needs_human", False)),
        diff=word_diff(draft.reply, draft.edited_text) if draft.edited_text else [],
    )


def _thread_message(m) -> ThreadMessage:  # noqa: ANN001
    body = (m.body or "").strip()
    quoted = body if body and " ".join(body.split()) != " ".join(m.new_text.split()) else None
    return ThreadMessage(m.received_at, m.subject, m.new_text, quoted)


def _refs(session: Session, client_id: str, draft: Draft, words: list[str]) -> list[Ref]:
    refs = draft.memory_refs or []
    items = memory_search.fetch(session, client_id, [r["id"] for r in refs
                                                     if r.get("kind") != "knowledge"])
    out = []
    for r in refs:
        kind, score = str(r.get("kind", "")), float(r.get("score", 0.0))
        if kind == "knowledge":
            doc = kb_documents.get_document(session, client_id, r["id"])
            if doc is None:
                out.append(Ref(kind, score, "a document since deleted", ""))
                continue
            text = " ".join(c.text for c in kb_documents.chunk_texts(session, client_id, doc.id))
            path = f"{doc.folder}/{doc.filename}" if doc.folder else doc.filename
            out.append(Ref(kind, score, path, snippet(text, words)))
        elif r["id"] in items:
            item = items[r["id"]]
            out.append(Ref(kind, score, item.created_at.strftime("%Y-%m-%d %H:%M"),
                           snippet(item.text, words)))
        else:
            out.append(Ref(kind, score, "an item since erased", ""))
    return out


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """Word-level diff: ("same" | "del" | "ins", text), whitespace kept."""
    a, b = re.findall(r"\s+|\S+", before), re.findall(r"\s+|\S+", after)
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("del", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(("ins", "".join(b[j1:j2])))
    return out


def first_pending(session: Session, client_id: str) -> str | None:
    """The draft to show next: the top of the pending queue."""
    rows = review_queue.list_queue(session, client_id, QueueFilter(), limit=1)
    return rows[0].id if rows else None
