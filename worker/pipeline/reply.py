"""Stage: the reply itself — from the client's model chain within its limits, or from the
offline drafter when no model is configured or every model refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from schema.agent_config import ResolvedConfig
from schema.drafts import ModelReply, Usage
from worker.adapters.client_limits import LimitPolicy
from worker.errors import AllModelsRefused, Deferred
from worker.logs import log
from worker.pipeline.generate import generate
from worker.pipeline.model_chain import model_chain
from worker.pipeline.offline_drafter import holding_reply
from worker.pipeline.prompt import LeadMessage, Recalled, build_messages
from worker.ports import CallAudit, Limits, ModelClient
from worker.retry import RetryPolicy
from worker.settings import Settings
from worker.store.models import InboundMessage


@dataclass
class Written:
    reply: ModelReply
    model: str | None  # None: the offline drafter wrote it (a degraded draft)
    usage: Usage = field(default_factory=Usage)
    calls: list[CallAudit] = field(default_factory=list)


def lead_message(message: InboundMessage) -> LeadMessage:
    return LeadMessage(
        channel=message.channel,
        text=message.new_text,
        lead_name=message.lead_name,
        subject=message.subject,
        topic=message.topic,
    )


def write_reply(
    message: InboundMessage, config: ResolvedConfig, recalled: list[Recalled], *,
    model_client: ModelClient, limits: Limits, model_retry: RetryPolicy, settings: Settings,
) -> Written:
    """Raises DisallowedModel (permanent), Deferred (over a limit: the message waits) and
    AllModelsUnavailable (transient: try again later)."""
    lead = lead_message(message)
    chain = model_chain(
        config.fields, message.model_override, settings.llm_model, settings.llm_fallback_models
    )
    if not chain:
        return Written(holding_reply(config.fields, lead, recalled), None)
    policy = limit_policy(config, settings)
    deferral = limits.defer_until(message.client_id, policy)
    if deferral is not None:
        until, why = deferral
        raise Deferred(why, until=until)
    try:
        generated = generate(
            model_client, chain, build_messages(config.fields, recalled, lead), model_retry
        )
    except AllModelsRefused as exc:
        log.warning("draft.degraded", client_id=message.client_id, reason=str(exc)[:300])
        return Written(holding_reply(config.fields, lead, recalled), None,
                       calls=exc.calls)  # type: ignore[attr-defined]
    usage = Usage(
        promptTokens=generated.prompt_tokens,
        completionTokens=generated.completion_tokens,
        costUsd=generated.cost_usd,
    )
    if policy.has_budget:  # counted only where a budget needs it: a round trip less
        limits.record_usage(
            message.client_id, usage.prompt_tokens + usage.completion_tokens, usage.cost_usd
        )
    return Written(generated.reply, generated.model, usage, generated.calls)


def limit_policy(config: ResolvedConfig, settings: Settings) -> LimitPolicy:
    fields = config.fields
    return LimitPolicy(
        per_minute=_first(fields.rate_limit_per_minute, settings.client_rate_limit_per_minute),
        daily_tokens=_first(fields.daily_token_budget, settings.client_daily_token_budget),
        daily_cost_usd=_first(fields.daily_cost_budget_usd, settings.client_daily_cost_budget_usd),
    )


def _first(value, default):  # noqa: ANN001, ANN202
    return default if value is None else value
