"""The composition root: every port a process uses, built once per process — after Celery
forked (tasks/app.py), at ingress start, in the API's lifespan, per CLI command — never at
import. Stages and use cases never import this module: they take the ports they use by name,
and `Runtime.call` passes them (the way cosmicpython's bootstrap injects handler
dependencies)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from worker.adapters.client_limits import ClientLimits
from worker.pipeline.config_resolver import ConfigResolver
from worker.ports import Clock, Configs, Dispatcher, DraftStore, Embedder, Limits, ModelClient
from worker.ports import Publisher, Recall
from worker.retry import RetryPolicy
from worker.settings import Settings

T = TypeVar("T")

# Celery's retry of a task whose database or Redis is down: 2, 4, 8 … 60 s, full jitter,
# 8 retries; past that the message's lease expires and beat's reprocessing takes over.
TASK_RETRY = RetryPolicy(max_attempts=9, base_seconds=2.0, max_seconds=60.0)


@dataclass
class Runtime:
    """The ports of one process, by the names stages take them under."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    configs: Configs
    model_client: ModelClient
    publisher: Publisher
    dispatcher: Dispatcher
    limits: Limits
    store: DraftStore
    recall: Recall
    clock: Clock
    model_retry: RetryPolicy  # per model, within one drafting run
    draft_retry: RetryPolicy  # a failed message's next_attempt_at (beat's reprocessing)
    task_retry: RetryPolicy = TASK_RETRY  # Celery's retry while infrastructure is down
    embedder: Embedder | None = None  # only when EMBEDDING_MODEL is set
    listener: object | None = None  # worker.adapters.invalidation.InvalidationListener

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` with each keyword-only parameter it declares and the caller
        did not give taken from this runtime, by name."""
        for name in _ports_of(fn):
            if name not in kwargs and hasattr(self, name):
                kwargs[name] = getattr(self, name)
        return fn(*args, **kwargs)

    def listen(self, **handlers: Callable[[str | None], None]) -> None:
        """Start this process's cache-invalidation listener (after fork): config changes, and
        whatever else the process caches (`handlers`, by topic)."""
        from worker.adapters.invalidation import InvalidationListener

        if self.listener is None:
            self.listener = InvalidationListener(
                self.redis, self.settings.redis_namespace,
                {"config": self.configs.invalidate, **handlers},
            ).start()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self.store.close()
        self.engine.dispose()
        self.redis.close()


@functools.cache
def _ports_of(fn: Callable[..., Any]) -> tuple[str, ...]:
    target = fn.__init__ if inspect.isclass(fn) else fn
    return tuple(
        p.name for p in inspect.signature(target).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    )


def bootstrap(
    settings: Settings,
    dispatcher: Dispatcher | None = None,
    redis_client: redis.Redis | None = None,
    model_client: ModelClient | None = None,
    limits_storage_uri: str | None = None,
) -> Runtime:
    """Wire the real adapters. Tests and the demo pass their own where they must. Without a
    dispatcher, drafting tasks go to Celery by name."""
    from worker.adapters.breaker import BreakerModelClient
    from worker.adapters.clock import SystemClock
    from worker.adapters.embeddings_litellm import build_embedder
    from worker.adapters.llm_litellm import LiteLLMClient
    from worker.adapters.streams import RedisStreamPublisher
    from worker.pipeline.recall import recall_for
    from worker.store.db import make_engine, make_session_factory
    from worker.store.drafting import SqlDraftStore

    if dispatcher is None:
        from worker.adapters.celery_app import CeleryDispatcher, make_celery

        dispatcher = CeleryDispatcher(make_celery(settings))
    engine = make_engine(settings)
    sessions = make_session_factory(engine, settings.db_app_role)
    client = redis_client or redis.Redis.from_url(settings.redis_url)
    if model_client is None:
        model_client = BreakerModelClient(
            LiteLLMClient(
                api_base=settings.llm_api_base,
                api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
                timeout_seconds=settings.llm_timeout_seconds,
                max_tokens=settings.llm_max_tokens,
            ),
            client,
            namespace=f"{settings.redis_namespace}:breaker",
            fail_max=settings.breaker_fail_max,
            reset_timeout=settings.breaker_reset_seconds,
        )
    embedder = build_embedder(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        redis=client,
        configs=ConfigResolver(
            sessions, settings.config_cache_size, settings.config_cache_ttl_seconds
        ),
        model_client=model_client,
        publisher=RedisStreamPublisher(client),
        dispatcher=dispatcher,
        limits=ClientLimits(
            client, limits_storage_uri or settings.redis_url, settings.redis_namespace
        ),
        store=SqlDraftStore(sessions, settings.recall_budget_seconds,
                            settings.outbox_mark_every_seconds),
        recall=functools.partial(
            recall_for, limit=settings.recall_limit,
            budget_seconds=settings.recall_budget_seconds, embedder=embedder,
        ),
        clock=SystemClock(),
        model_retry=RetryPolicy(
            max_attempts=settings.llm_max_attempts,
            base_seconds=settings.llm_retry_base_seconds,
            max_seconds=settings.llm_retry_max_seconds,
        ),
        # A failed draft comes back after retry_failed_after_seconds · 2^(attempts-1),
        # ±20 %, until max_draft_attempts attempts were used.
        draft_retry=RetryPolicy(
            max_attempts=settings.max_draft_attempts,
            base_seconds=settings.retry_failed_after_seconds,
            max_seconds=float("inf"),
            jitter_min=0.8,
            jitter_max=1.2,
        ),
        embedder=embedder,
    )
