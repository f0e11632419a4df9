"""A tenant's agent configuration: the fields of `agent-runtime config set` (CONTRACT.md)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schema.text import storable

_Item = Field(max_length=500)
MAX_RATE_PER_MINUTE = 10_000_000
MAX_JSON_INT = 2**53 - 1
MAX_COST_USD = 1_000_000_000.0
_DOMAIN = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class AgentConfigFields(BaseModel):
    """What a dealer's admin sets. Every field has a conservative, industry-neutral default."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    name: str = Field(default="Assistant", min_length=1, max_length=200)
    personality: str = Field(default="helpful, courteous and professional", max_length=2_000)
    tonality: str = Field(default="polite and neutral", max_length=500)
    response_style: str = Field(
        default="short and clear: two to four sentences, plain language",
        alias="responseStyle",
        max_length=1_000,
    )
    dos_list: tuple[str, ...] = Field(
        default=(
            "Answer the lead's actual question first",
            "Offer one concrete next step",
        ),
        alias="dosList",
        max_length=50,
    )
    donts_list: tuple[str, ...] = Field(
        default=(
            "Do not invent prices, availability, dates or commitments",
            "Do not promise anything on behalf of the business",
        ),
        alias="dontsList",
        max_length=50,
    )
    # None: the prompt speaks of "the business", never of one trade.
    industry: str | None = Field(default=None, max_length=200)
    # Default model for this tenant; None falls back to LLM_MODEL.
    model: str | None = Field(default=None, max_length=200)
    # Models a per-message override may name. Empty: no override allowed.
    allowed_models: tuple[str, ...] = Field(default=(), alias="allowedModels", max_length=50)
    # Extension to the contract's list: tried in order when the main model fails.
    fallback_models: tuple[str, ...] = Field(default=(), alias="fallbackModels", max_length=10)

    # Extensions: this client's limits; None takes the deployment's default (settings).
    # Bounded by what their stores hold: Redis counters are signed 64-bit integers, and every
    # number must survive JSON (2^53 - 1 is the largest integer any JSON reader keeps exact).
    rate_limit_per_minute: int | None = Field(
        default=None, alias="rateLimitPerMinute", ge=0, le=MAX_RATE_PER_MINUTE)
    daily_token_budget: int | None = Field(
        default=None, alias="dailyTokenBudget", ge=0, le=MAX_JSON_INT)
    daily_cost_budget_usd: float | None = Field(
        default=None, alias="dailyCostBudgetUsd", ge=0, le=MAX_COST_USD, allow_inf_nan=False)

    # Extensions: review. Below this confidence (the model's own, 0–1) a draft is marked
    # needs_human; so is a draft about one of the handoff topics.
    min_confidence: float = Field(default=0.5, alias="minConfidence", ge=0, le=1, allow_inf_nan=False)
    handoff_topics: tuple[str, ...] = Field(
        default=("complaint", "legal"), alias="handoffTopics", max_length=50
    )
    # Domains a draft's links may point to (subdomains included) without a guardrail flag.
    link_allowlist: tuple[str, ...] = Field(default=(), alias="linkAllowlist", max_length=100)
    # Privacy: messages, drafts, audit rows and kept-aside events older than this many days
    # are deleted by beat. None keeps them.
    retention_days: int | None = Field(default=None, alias="retentionDays", ge=1, le=3650)

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        """Postgres text cannot hold NUL, and UTF-8 cannot hold lone surrogates."""
        if isinstance(data, dict):
            for value in _strings(data):
                storable(value)
        return data

    @field_validator("handoff_topics")
    @classmethod
    def _topics(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(i.strip().lower() for i in items if i and i.strip()))
        if any(len(i) > 100 for i in cleaned):
            raise ValueError("a handoff topic is limited to 100 characters")
        return cleaned

    @field_validator("link_allowlist")
    @classmethod
    def _domains(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(i.strip().lower().rstrip(".") for i in items if i.strip()))
        for domain in cleaned:
            if not _DOMAIN.fullmatch(domain):
                raise ValueError(f"not a domain name: {domain[:100]!r} (e.g. example.com)")
        return cleaned

    @field_validator("dos_list", "donts_list", "allowed_models", "fallback_models")
    @classmethod
    def _no_blank_items(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(i.strip() for i in items if i and i.strip())
        if any(len(i) > 500 for i in cleaned):
            raise ValueError("list items are limited to 500 characters")
        return cleaned

    def as_contract_json(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


def _strings(value: Any):  # noqa: ANN202
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


class ResolvedConfig(BaseModel):
    """The config a draft was written with: its fields plus where they came from."""

    model_config = ConfigDict(frozen=True)

    client_id: str
    config_id: str | None  # None: the client has no active config, defaults apply
    version: int  # 0 for defaults
    fields: AgentConfigFields
