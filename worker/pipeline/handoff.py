"""Stage: does this draft need a person's judgement? Pure: the model's reply (or none, when
the offline holding reply stood in), the client's thresholds and the message's topic in, the
decision and its reasons out. The draft is saved and published either way, marked."""

from __future__ import annotations

from dataclasses import dataclass

from schema.drafts import ModelReply

# Reason kinds, the label of agent_drafts_needs_human_total.
LOW_CONFIDENCE = "low_confidence"
HANDOFF = "handoff"
HANDOFF_TOPIC = "handoff_topic"
DEGRADED = "degraded"


@dataclass(frozen=True)
class HumanReview:
    needed: bool
    reason: str | None = None  # one line: every reason, "; "-separated
    kinds: tuple[str, ...] = ()


def decide(
    reply: ModelReply,
    *,
    degraded: bool,
    min_confidence: float,
    handoff_topics: tuple[str, ...],
    topic: str | None,
) -> HumanReview:
    reasons: list[tuple[str, str]] = []
    if degraded:
        reasons.append((DEGRADED, "no model wrote this draft (holding reply)"))
    else:
        if reply.confidence is None:
            reasons.append((LOW_CONFIDENCE, "confidence missing or malformed"))
        elif reply.confidence < min_confidence:
            reasons.append((LOW_CONFIDENCE,
                            f"confidence {reply.confidence:.2f} below {min_confidence:.2f}"))
        if reply.handoff is not None and reply.handoff.needed:
            why = reply.handoff.reason or "no reason given"
            reasons.append((HANDOFF, f"model asked for a person: {why}"))
    topic_key = (topic or "").strip().lower()
    if topic_key and topic_key in handoff_topics:
        reasons.append((HANDOFF_TOPIC, f"topic {topic_key!r} is a handoff topic"))
    if not reasons:
        return HumanReview(False)
    return HumanReview(
        True, "; ".join(text for _kind, text in reasons)[:1000],
        tuple(dict.fromkeys(kind for kind, _text in reasons)),
    )
