"""Stage: what the reviewer is told about a finished draft — its guardrail flags and whether it
needs a person. Pure: assembles the sources and the client's policy for `guardrails` and
`handoff`; no IO."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from schema.agent_config import AgentConfigFields
from schema.drafts import ModelReply
from worker.leads import lead_key as key_of
from worker.pipeline import guardrails, handoff
from worker.pipeline.guardrails import Flag


@dataclass(frozen=True)
class Assessment:
    flags: tuple[Flag, ...]
    review: handoff.HumanReview
    confidence: float | None

    NONE: ClassVar[Assessment]  # nothing checked (tests that build records by hand)

    def flags_json(self) -> list[dict[str, str]]:
        return [f.as_json() for f in self.flags]


@dataclass(frozen=True)
class DraftedFrom:
    """What the draft was written from, as far as the checks care."""

    text: str  # the lead's new text
    subject: str | None = None
    lead_name: str | None = None
    topic: str | None = None
    context: tuple[str, ...] = ()  # recalled texts
    lead_key: str | None = None  # leads.lead_key: "email:<hmac>" or "id:<leadId>"
    inbound_flags: Sequence[Any] = ()  # [{code, detail}] raised by the ingress cleaning


Assessment.NONE = Assessment((), handoff.HumanReview(False), None)


def assess(
    reply: ModelReply,
    *,
    degraded: bool,
    config: AgentConfigFields,
    source: DraftedFrom,
    secret: bytes,
    detect: Callable[[str], str | None] | None = None,
) -> Assessment:
    def is_lead_email(address: str) -> bool:
        return source.lead_key is not None and key_of(None, address, secret) == source.lead_key

    sources = guardrails.Sources(
        lead_text="\n".join(t for t in (source.subject, source.text, source.lead_name) if t),
        context=source.context,
        config_text=_config_text(config),
        is_lead_email=is_lead_email,
    )
    policy = guardrails.Policy(link_allowlist=config.link_allowlist, donts=config.donts_list)
    flags = [*_inbound(source.inbound_flags),
             *guardrails.check(reply.reply, sources, policy, reply.quick_replies, detect)]
    review = handoff.decide(
        reply, degraded=degraded, min_confidence=config.min_confidence,
        handoff_topics=config.handoff_topics, topic=source.topic,
    )
    return Assessment(tuple(flags), review, None if degraded else reply.confidence)


def _config_text(config: AgentConfigFields) -> str:
    """The client's own words: a phone number or address in its personality may be repeated."""
    return "\n".join((config.name, config.personality, config.tonality, config.response_style,
                      *config.dos_list, *config.donts_list, config.industry or ""))


def _inbound(raw: Iterable[Any]) -> list[Flag]:
    """Inbound flags as stored by the ingress; anything not {code, detail} is dropped."""
    flags = []
    for item in raw or ():
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            code = item["code"] if item["code"].startswith(guardrails.INBOUND_PREFIX) else (
                guardrails.INBOUND_PREFIX + item["code"])
            flags.append(Flag(code[:64], str(item.get("detail") or "")))
    return flags
