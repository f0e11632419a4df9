"""The HTTP API on a real server: uvicorn in a thread on a free port, driven with httpx,
over real Postgres and Redis; drafting runs the real pipeline against the fake model (a
dispatcher that drafts in a thread stands in for Celery; tests/e2e runs real processes)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn

from tests.integration.conftest import make_runtime  # noqa: F401 - fixture
from worker.api.app import create_app
from worker.api.server import api_config
from worker.bootstrap import Runtime
from worker.ports import Handover
from worker.store import api_keys, tenants

pytestmark = pytest.mark.integration


@dataclass
class ThreadDispatcher:
    """Drafts each handed-over message in a thread of this process: the real use case."""

    rt: Runtime | None = None
    threads: list[threading.Thread] = field(default_factory=list)

    def enqueue(self, handovers: list[Handover]) -> None:
        from worker.pipeline.draft import draft_message

        assert self.rt is not None
        for h in handovers:
            t = threading.Thread(
                target=self.rt.call,
                args=(draft_message, h.client_id, h.message_id, f"t-{h.message_id}"),
            )
            self.threads.append(t)
            t.start()

    def join(self) -> None:
        for t in self.threads:
            t.join(30)


@dataclass
class ThreadDocumentQueue:
    """Knowledge-base processing and purging in a thread of this process (the real use cases
    Celery's tasks run), so an upload answers before its document is processed."""

    rt: Runtime
    threads: list[threading.Thread] = field(default_factory=list)

    def process(self, client_id: str, document_id: str) -> None:
        from worker.knowledge.processing import process_document

        self._run(process_document, self.rt.sessions, client_id, document_id,
                  owner=f"t-{document_id}", lease_seconds=self.rt.settings.kb_lease_seconds)

    def purge(self, client_id: str) -> None:
        from worker.knowledge.processing import purge_deleted

        self._run(purge_deleted, self.rt.sessions, client_id)

    def _run(self, target, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        t = threading.Thread(target=target, args=args, kwargs=kwargs)
        self.threads.append(t)
        t.start()

    def join(self) -> None:
        for t in list(self.threads):
            t.join(30)


class ApiServer:
    def __init__(self, rt: Runtime, documents: ThreadDocumentQueue | None = None):
        app = create_app(rt=rt, documents=documents)
        # the server `agent-runtime api` runs: header-size and read-time bounds included
        config = api_config(app, rt.settings, host="127.0.0.1", port=0, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.rt = rt

    def start(self) -> ApiServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        assert self.rt.listener.wait_subscribed(10)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def client(self, key: str | None = None, **headers: str) -> httpx.Client:
        if key:
            headers["X-API-Key"] = key
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@dataclass
class Api:
    server: ApiServer
    rt: Runtime
    dispatcher: ThreadDispatcher
    documents: ThreadDocumentQueue | None  # None: Celery's tasks, for a real worker to take

    def client_with_key(self, client_id: str, config: dict | None = None) -> httpx.Client:
        """A registered client (with `config` active, if given) and a client of the API
        holding its key."""
        with self.rt.sessions.begin() as session:
            tenants.register_client(session, client_id)
            if config is not None:
                tenants.activate_new_config(session, client_id, config)
            _row, key = api_keys.create_key(session, client_id, name=f"{client_id}-reviewer")
        self.rt.configs.invalidate(client_id)
        return self.server.client(key)

    def admin(self, **headers: str) -> httpx.Client:
        with self.rt.sessions.begin() as session:
            _row, key = api_keys.create_key(session, None, is_admin=True, name="ops")
        return self.server.client(key, **headers)


@pytest.fixture
def api(make_runtime) -> Iterator[Api]:  # noqa: F811
    yield from serve(make_runtime)


@pytest.fixture
def api_docs(make_runtime) -> Iterator[Api]:  # noqa: F811
    """The API with /docs and /openapi.json served (API_DOCS=true)."""
    yield from serve(make_runtime, api_docs=True)


def serve(make_runtime, documents_in_thread: bool = True,  # noqa: ANN001, F811
          **overrides: object) -> Iterator[Api]:
    """The API on a real server; knowledge-base work in a thread of this process, or, without
    `documents_in_thread`, sent to Celery (tests/browser runs `agent-runtime worker` for it)."""
    dispatcher = ThreadDispatcher()
    rt = make_runtime(reply_wait_seconds=15.0, config_cache_ttl_seconds=3600.0, **overrides)
    rt.dispatcher = dispatcher
    dispatcher.rt = rt
    documents = ThreadDocumentQueue(rt) if documents_in_thread else None
    server = ApiServer(rt, documents).start()
    yield Api(server, rt, dispatcher, documents)
    dispatcher.join()
    if documents is not None:
        documents.join()
    server.stop()
