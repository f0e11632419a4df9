"""What the browser tests share: waiting, signing in, the axe-core check."""

from __future__ import annotations

from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


def wait(driver, condition, seconds: float = 20):  # noqa: ANN001, ANN202
    """Until `condition` holds; an element replaced meanwhile (a page load, an htmx swap) is
    looked up again at the next poll rather than failing the test."""
    def settled(d):  # noqa: ANN001, ANN202
        try:
            return condition(d)
        except WebDriverException as exc:
            # chromedriver's way of saying "stale" when a node is swapped out mid-command.
            if "does not belong to the document" in str(exc):
                return False
            raise

    return WebDriverWait(driver, seconds, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException,)).until(settled)


def sign_in(driver, base: str, client_id: str, name: str, secret: str) -> None:  # noqa: ANN001
    driver.get(base + "/login")
    driver.find_element(By.ID, "client").send_keys(client_id)
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "secret").send_keys(secret)
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    wait(driver, ec.presence_of_element_located((By.ID, "queue-list")))


def axe(driver) -> list[dict]:  # noqa: ANN001
    """Serious and critical axe-core violations of the page as it is."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(function (r) {"
        "  done(r.violations.map(function (v) { return {id: v.id, impact: v.impact,"
        "    nodes: v.nodes.map(function (n) { return n.target.join(' '); })}; })); });")
    return [v for v in result if v["impact"] in ("serious", "critical")]
