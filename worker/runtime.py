"""Everything a process needs, built once after start-up (or after fork), never at import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from worker.adapters.client_limits import ClientLimits
from worker.pipeline.config_resolver import ConfigResolver
from worker.pipeline.generate import RetryPolicy
from worker.ports import Dispatcher, Embedder, ModelClient, Publisher
from worker.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    configs: ConfigResolver
    model_client: ModelClient
    publisher: Publisher
    dispatcher: Dispatcher
    retry_policy: RetryPolicy
    limits: ClientLimits
    embedder: Embedder | None = None  # only when EMBEDDING_MODEL is set
    listener: object | None = None  # worker.adapters.invalidation.InvalidationListener

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
        self.engine.dispose()
        self.redis.close()


def build_runtime(
    settings: Settings,
    dispatcher: Dispatcher,
    redis_client: redis.Redis | None = None,
    model_client: ModelClient | None = None,
    limits_storage_uri: str | None = None,
) -> Runtime:
    """Wire the real adapters. Tests and the demo pass their own where they must."""
    from worker.adapters.breaker import BreakerModelClient
    from worker.adapters.embeddings_litellm import build_embedder
    from worker.adapters.llm_litellm import LiteLLMClient
    from worker.adapters.streams import RedisStreamPublisher
    from worker.store.db import make_engine, make_session_factory

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
        retry_policy=RetryPolicy(
            max_attempts=settings.llm_max_attempts,
            base_seconds=settings.llm_retry_base_seconds,
            max_seconds=settings.llm_retry_max_seconds,
        ),
        limits=ClientLimits(
            client, limits_storage_uri or settings.redis_url, settings.redis_namespace
        ),
        embedder=build_embedder(settings),
    )
