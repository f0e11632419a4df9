"""The console in a real browser: Debian's Chromium driven by Selenium through Debian's
chromedriver (never a downloaded browser), against the real API app on uvicorn over real
Postgres and Redis (tests/api/conftest.py); knowledge-base documents are processed by a real
`agent-runtime worker` process through Celery (`api_with_worker`). A screenshot of each page is
kept as an artifact of the run, in $BROWSER_ARTIFACTS (default: agent-runtime-browser in the
temporary directory)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Api, api, serve  # noqa: F401 - fixture
from tests.integration.conftest import make_runtime  # noqa: F401 - fixture
from tests.support.processes import (
    CLI, NotReady, Proc, free_port, stop_all, wait_until, workers_ready,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS")
                 or Path(tempfile.gettempdir()) / "agent-runtime-browser")


def _unavailable(what: str) -> None:
    message = f"{what} is not installed (scripts/ensure-browser.sh installs it)"
    if os.environ.get("CI"):
        pytest.fail(message + " — CI must provide it")
    pytest.skip(message)


@pytest.fixture
def browser() -> Iterator:
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        _unavailable("Chromium or chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver, name: str, width: int = 1280, height: int = 900) -> Path:  # noqa: ANN001
    """Saves the page as it looks at that width (artifact of the test run)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(width, height)
    path = ARTIFACTS / f"{name}-{width}.png"
    driver.save_screenshot(str(path))
    return path


# What `agent-runtime worker` needs to work on the test's data, read from the test's Settings.
_WORKER_SETTINGS = ("database_url", "redis_url", "broker_url", "redis_namespace", "llm_model",
                    "llm_api_base", "inbound_email_stream", "inbound_chat_stream",
                    "outbound_stream", "outbound_decisions_stream")


@pytest.fixture
def api_with_worker(make_runtime, tmp_path) -> Iterator[Api]:  # noqa: ANN001, F811
    """The API whose knowledge-base work goes to Celery, and `agent-runtime worker` taking it,
    started as the e2e and fault tests start it (tests/support/processes.py). Celery's queue
    names are fixed, so its broker is a redis-server of this test alone (the same embedded
    one `demo` runs), never the shared one; everything else is the test's Postgres and Redis."""
    from worker.embedded.servers import EmbeddedRedis

    broker = EmbeddedRedis(tmp_path / "broker", free_port(), tmp_path / "broker.log")
    broker.start()
    served: Iterator[Api] | None = None
    worker: Proc | None = None
    try:
        served = serve(make_runtime, documents_in_thread=False, broker_url=broker.url)
        api_ = next(served)
        settings = api_.rt.settings
        name = f"browser{os.getpid()}"
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONUNBUFFERED": "1",
               "LEAD_HASH_KEY": settings.lead_hash_key.get_secret_value(),
               "LLM_API_KEY": settings.llm_api_key.get_secret_value(),
               "WORKER_METRICS_PORT": "0", "DB_POOL_SIZE": "4", "DB_MAX_OVERFLOW": "4",
               **{field.upper(): str(getattr(settings, field)) for field in _WORKER_SETTINGS}}
        worker = Proc("worker", [CLI, "worker", "--concurrency=2", "-n", f"{name}@%h"], env,
                      tmp_path / "worker.log").start()

        def still_running() -> None:
            if not worker.alive():
                raise RuntimeError(f"agent-runtime worker exited:\n{worker.tail()}")

        def answers() -> bool:
            try:
                return workers_ready(broker.url, [f"{name}@{socket.gethostname()}"])
            except NotReady:
                return False

        wait_until("agent-runtime worker", answers, 90, every=0.5, still_running=still_running,
                   details=worker.tail)
        yield api_
    finally:
        if worker is not None:
            stop_all([worker])
        if served is not None:
            next(served, None)  # the API's own teardown
        broker.stop()
