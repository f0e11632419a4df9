"""The FastAPI application: routers, the runtime built at start-up (after uvicorn forked),
request metrics, and GET /metrics.

Every router declares the auth dependencies of worker.api.auth on its endpoints, so a router
(agent, review, knowledge) joins by one line in ROUTERS and gets the same keys, the same
client scoping and the same 404 for other clients' things.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from worker import metrics
from worker.adapters.infrastructure import INFRASTRUCTURE_ERRORS
from worker.api import agent, errors, knowledge, rejected, review
from worker.api.auth import KeyCache, may_scrape
from worker.knowledge.ports import DocumentQueue
from worker.logs import log
from worker.bootstrap import Runtime
from worker.settings import Settings

ROUTERS = [agent.router, review.router, knowledge.router, rejected.router]


def create_app(
    settings: Settings | None = None, rt: Runtime | None = None,
    documents: DocumentQueue | None = None,
) -> FastAPI:
    """`rt`: a runtime built elsewhere (tests); by default one is built at start-up.
    `documents`: where knowledge-base processing goes (default: the Celery tasks)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = rt is None
        runtime = rt or _build_runtime(settings or Settings())
        app.state.rt = runtime
        app.state.documents = documents  # None: the Celery tasks, imported on first use
        app.state.keys = KeyCache(runtime.settings.api_key_cache_seconds)
        runtime.listen(keys=app.state.keys.invalidate)
        from worker.health import queue_depths

        metrics.watch_queues(lambda: runtime.call(queue_depths))
        log.info("api.ready")
        yield
        if owned:
            runtime.close()

    docs = (settings or (rt.settings if rt else None) or Settings()).api_docs
    app = FastAPI(
        docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        title="agent-runtime API",
        version="1",
        description="Control plane of agent-runtime: replies, agent config, review, knowledge "
        "base, health. "
        "Authenticate with a per-client API key in X-API-Key (admin keys add X-Client-Id).",
        lifespan=lifespan,
    )
    for router in ROUTERS:
        app.include_router(router)
    from worker.console.web import install as install_console

    install_console(app)  # the review console at /
    errors.install(app)
    app.add_route("/metrics", _metrics, include_in_schema=False)
    app.add_middleware(RequestMetrics)
    for error in INFRASTRUCTURE_ERRORS:
        app.add_exception_handler(error, _unavailable)
    return app


async def _unavailable(_request, exc: Exception) -> JSONResponse:  # noqa: ANN001
    """Postgres or Redis is down: say so (and when to come back) rather than a bare 500."""
    log.warning("api.dependency_unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
    return JSONResponse({"detail": "a backing service (database or Redis) is unavailable; "
                         "retry shortly"}, status_code=503, headers={"Retry-After": "5"})


def _build_runtime(settings: Settings) -> Runtime:
    from worker.bootstrap import bootstrap

    return bootstrap(settings)


async def _metrics(request) -> Response:  # noqa: ANN001
    if not await may_scrape(request):
        return JSONResponse({"detail": "metrics need the scrape token (METRICS_TOKEN) or an "
                             "admin key"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # several API processes: add them up
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """ASGI middleware: count and time each request by its route template (not its path, so
    ids do not explode the label set)."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_status(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            metrics.HTTP_REQUESTS.labels(method, route, str(status[0])).inc()
            metrics.HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)
