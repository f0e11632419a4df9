"""All configuration, read from the environment once per process (CONTRACT.md, Environment)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    # Required: postgresql+psycopg://… (`agent-runtime demo` and `up` bring their own Postgres).
    database_url: str | None = None
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
    # Row-level security: the role every tenant-bound transaction switches to (migration 0012
    # creates it); "" keeps the connection's own role (then DATABASE_URL must not be a superuser).
    db_app_role: str = "agent_runtime_app"

    inbound_email_stream: str = "agent:inbound:email"
    inbound_chat_stream: str = "agent:inbound:chat"
    outbound_stream: str = "agent:outbound:drafts"
    # Reviewers' approved (or edited) replies, for the system that sends them.
    outbound_decisions_stream: str = "agent:outbound:decisions"
    consumer_group: str = "agent-runtime"
    ingress_batch_size: int = 200
    # E-mail is stored this many per tenant per read (chat has its own ingress thread).
    ingress_email_batch_size: int = 10
    ingress_block_ms: int = 1000
    # Per-tenant fairness (worker/adapters/lanes.py): the ingress moves up to this many inbound
    # e-mail entries per read into their tenant's lane (microseconds each), so no tenant's
    # e-mail waits behind another's backlog in the inbound stream.
    ingress_split_batch_size: int = Field(default=1000, ge=1)
    # At most this many of a tenant's e-mails are stored and waiting for a worker (in the Celery
    # queue); the rest wait in the tenant's lane. Another tenant's e-mail therefore queues behind
    # about this many per busy tenant, not behind a whole backlog. Higher: more buffer for fast
    # worker fleets; lower: fairer. 10, one ingress batch: at 20 another tenant's p95 sat at
    # 1.94-2.74 s in bench/fairness.py, at 10 at 1.32 s, with the backlog's drain no slower
    # (each pass stores at most INGRESS_EMAIL_BATCH_SIZE per tenant either way).
    tenant_email_queued_max: int = Field(default=10, ge=1)
    # Per-tenant concurrency cap: at most this many of a tenant's e-mails stored and not yet
    # drafted (waiting or being drafted); 0 = no cap. Chat is never capped: a person waits.
    tenant_max_in_flight: int = Field(default=0, ge=0)
    # Bursts: a lead message is drafted this long after it arrived, so several messages in one
    # conversation within the window give one model call, for the newest (the older ones are
    # skipped as superseded when their turn comes). 0 = at once.
    burst_window_chat_seconds: float = Field(default=2.0, ge=0)
    burst_window_email_seconds: float = Field(default=0.0, ge=0)
    # Inbound stream entries every consumer group has acknowledged are trimmed once older than
    # this (checked every INBOUND_TRIM_EVERY_SECONDS); an unacknowledged entry never is.
    inbound_retention_seconds: float = Field(default=3600.0, ge=0)
    inbound_trim_every_seconds: float = Field(default=60.0, gt=0)

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
    # Drafts' outbox rows are marked published in batches this often (0: each at once). Kept
    # under half the relay's grace above: a mark not yet written when the relay looks means
    # the draft is published twice (consumers dedupe on draftId, but it is noise).
    outbox_mark_every_seconds: float = Field(default=0.2, ge=0)
    # Beat's schedule.
    reprocess_every_seconds: float = 30.0
    # How often beat applies the clients' retentionDays (privacy.retention).
    retention_every_seconds: float = 3600.0
    outbox_relay_every_seconds: float = 5.0

    # Knowledge base: upload limit; how long a worker owns a document it processes before the
    # sweeper (every REPROCESS_EVERY_SECONDS) hands it to another; processing runs that may
    # die on one file before it is failed for good.
    kb_max_upload_bytes: int = 50 * 1024 * 1024
    kb_lease_seconds: int = 600
    kb_max_attempts: int = 3
    # Extraction of a structured file (HTML, CSV, PDF, DOCX) runs in a child process with this
    # much address space and wall-clock time, at most this many at once per worker process.
    kb_extract_memory_mb: int = Field(default=512, ge=64)
    kb_extract_timeout_seconds: float = Field(default=60.0, gt=0)
    kb_extract_concurrency: int = Field(default=2, ge=1)

    # Prefix of this deployment's own Redis keys (rate limits, budgets, circuit breakers).
    redis_namespace: str = "agent-runtime"
    breaker_fail_max: int = 20  # failures in a row that switch a model off
    breaker_reset_seconds: float = 30.0
    # Defaults for clients whose config sets none; 0 means no limit.
    client_rate_limit_per_minute: int = 0
    client_daily_token_budget: int = 0
    client_daily_cost_budget_usd: float = 0.0

    # HTTP API (`agent-runtime api`).
    api_host: str = "0.0.0.0"
    api_port: int = 8000
    # POST /api/agent/reply waits this long for the draft, then answers 202.
    reply_wait_seconds: float = 20.0
    # API keys are cached per process; a revocation is announced at once, this bounds a lost one.
    api_key_cache_seconds: float = 30.0
    # Review console (worker/console): session lifetime; the Secure flag on its cookies (set it
    # whenever the console is reached over TLS, e.g. behind a TLS-terminating proxy).
    console_session_hours: float = 12.0
    console_cookie_secure: bool = False
    # Request headers past this size are answered 431; a request whose headers take longer, or
    # whose body sends nothing for this long, is answered 408 and closed.
    api_max_header_bytes: int = Field(default=65536, ge=4096)
    api_read_timeout_seconds: float = Field(default=10.0, gt=0)
    # /docs, /redoc and /openapi.json: off unless asked for (they map the attack surface).
    api_docs: bool = False
    # GET /metrics answers `Authorization: Bearer <METRICS_TOKEN>` or an admin API key.
    metrics_token: SecretStr | None = None
    # Worker metrics (Prometheus) on this port; 0 = off. The API serves GET /metrics itself.
    worker_metrics_port: int = 9101
    # Health: a worker counts as alive this long after its last heartbeat; backlog ceiling.
    worker_heartbeat_every_seconds: float = 5.0
    health_heartbeat_seconds: float = 30.0
    health_max_backlog: int = 1000

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

    @model_validator(mode="after")
    def _marks_before_the_relay(self) -> Settings:
        if self.outbox_mark_every_seconds > self.outbox_sweep_after_seconds / 2:
            raise ValueError(
                f"OUTBOX_MARK_EVERY_SECONDS ({self.outbox_mark_every_seconds}) must be at most "
                f"half of OUTBOX_SWEEP_AFTER_SECONDS ({self.outbox_sweep_after_seconds}): the "
                "relay would publish drafts again before their marks are written")
        return self

    @property
    def celery_broker_url(self) -> str:
        return self.broker_url or self.redis_url

    def burst_window(self, channel: str) -> float:
        return self.burst_window_email_seconds if channel == "email" else self.burst_window_chat_seconds

    def stream_for(self, channel: str) -> str:
        return self.inbound_email_stream if channel == "email" else self.inbound_chat_stream
