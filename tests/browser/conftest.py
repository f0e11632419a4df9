"""The console in a real browser: Debian's Chromium driven by Selenium through Debian's
chromedriver (never a downloaded browser), against the real API app on uvicorn over real
Postgres and Redis (tests/api/conftest.py). A screenshot of each page is kept as an artifact
of the run, in $BROWSER_ARTIFACTS (default: agent-runtime-browser in the temporary
directory)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import api  # noqa: F401 - fixture
from tests.integration.conftest import make_runtime  # noqa: F401 - fixture

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
