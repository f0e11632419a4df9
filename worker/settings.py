"""All configuration, read from the environment once per process (CONTRACT.md, Environment)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

DEMO_HOME = Path.home() / ".agent-runtime"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    database_url: str = Field(default=f"sqlite:///{DEMO_HOME / 'demo.sqlite3'}")
    redis_url: str = "redis://localhost:6379/0"
    # Celery's broker; the same Redis unless told otherwise.
    broker_url: str | None = None

    llm_model: str | None = None
    llm_api_base: str | None = None
    llm_api_key: SecretStr | None = None
    llm_fallback_models: Annotated[tuple[str, ...], NoDecode] = ()
    llm_timeout_seconds: float = 30.0
    llm_max_attempts: int = 3  # per model, first try included
    llm_retry_base_seconds: float = 0.5
    llm_retry_max_seconds: float = 8.0
    llm_max_tokens: int = 600

    lead_hash_key: SecretStr | None = None

    inbound_email_stream: str = "agent:inbound:email"
    inbound_chat_stream: str = "agent:inbound:chat"
    outbound_stream: str = "agent:outbound:drafts"
    consumer_group: str = "agent-runtime"
    ingress_batch_size: int = 200
    ingress_block_ms: int = 1000

    config_cache_size: int = 500
    config_cache_ttl_seconds: float = 60.0
    recall_limit: int = 5
    # Past this, a draft is written without memory (and says so in its recall_note).
    recall_budget_seconds: float = 1.2
    # A litellm embedding model (e.g. openai/text-embedding-3-small): recall then also ranks by
    # cosine similarity. Unset: lexical search alone. Reached through LLM_API_BASE / LLM_API_KEY.
    embedding_model: str | None = None
    # A message claimed by a worker is its own for this long; after that the sweeper may retake it.
    draft_lease_seconds: int = 300
    retry_failed_after_seconds: float = 60.0
    max_draft_attempts: int = 5
    outbox_sweep_after_seconds: float = 10.0
    # Beat's schedule.
    reprocess_every_seconds: float = 30.0
    outbox_relay_every_seconds: float = 5.0

    # Prefix of this deployment's own Redis keys (rate limits, budgets, circuit breakers).
    redis_namespace: str = "agent-runtime"
    breaker_fail_max: int = 20  # failures in a row that switch a model off
    breaker_reset_seconds: float = 30.0
    # Defaults for clients whose config sets none; 0 means no limit.
    client_rate_limit_per_minute: int = 0
    client_daily_token_budget: int = 0
    client_daily_cost_budget_usd: float = 0.0

    db_pool_size: int = 20
    db_max_overflow: int = 20
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("llm_fallback_models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(m.strip() for m in value.split(",") if m.strip())
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def celery_broker_url(self) -> str:
        return self.broker_url or self.redis_url

    def stream_for(self, channel: str) -> str:
        return self.inbound_email_stream if channel == "email" else self.inbound_chat_stream
