"""The holding reply written without a model: honest, short, and marked degraded."""

from __future__ import annotations

from schema.agent_config import AgentConfigFields
from schema.drafts import ModelReply
from worker.pipeline.prompt import LeadMessage, Recalled


def holding_reply(
    config: AgentConfigFields, message: LeadMessage, recalled: list[Recalled]
) -> ModelReply:
    """Acknowledge the message and promise only what is true: a person will follow up."""
    name = (message.lead_name or "").strip()
    topic = (message.topic or "").strip()
    subject = (message.subject or "").strip()
    greeting = f"Hi {name}," if name else "Hello,"
    about = f" about {topic}" if topic else (f' about "{subject}"' if subject else "")
    history = (
        " We also have your earlier messages, so you won't need to repeat yourself."
        if any(r.kind == "inbound_message" for r in recalled)
        else ""
    )
    reply = (
        f"{greeting} thank you for your message{about}. "
        f"It has reached {config.name}, and a member of our team will get back to you "
        f"personally as soon as possible.{history}"
    )
    return ModelReply(reply=reply, quickReplies=())
