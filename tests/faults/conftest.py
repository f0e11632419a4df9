"""Fixtures of the fault suite (see harness.py for what it does and how to run it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.faults.harness import (
    PG_ADMIN_URL,
    RESULTS,
    TABLE_HEADER,
    Deployment,
    SharedTemplate,
    log,
    slug,
)


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message + " — CI must provide it")
    pytest.skip(message)


@pytest.fixture(scope="session")
def fault_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedTemplate]:
    if shutil.which("redis-server") is None:
        _unavailable("redis-server is not on PATH")
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        _unavailable(f"PostgreSQL is not reachable ({exc})")
    template = SharedTemplate()
    template.create(tmp_path_factory.mktemp("faults-template"))
    yield template
    template.drop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001
    report = yield
    if report.when == "call":
        # Seen by the deploy fixture's clean-up: failed, or failed as expected (xfail).
        item.fault_failed = report.failed or hasattr(report, "wasxfail")
        if hasattr(report, "wasxfail"):
            item.fault_outcome = "xfailed (known bug)" if report.skipped else "XPASS"
        elif report.failed and "XPASS(strict)" in str(report.longrepr):
            item.fault_outcome = "XPASS(strict): fixed? drop its xfail"
        else:
            item.fault_outcome = report.outcome
    return report


@pytest.fixture
def deploy(fault_template: SharedTemplate, tmp_path: Path, request) -> Iterator:  # noqa: ANN001
    """deploy(scenario, **options) -> a started Deployment; everything is stopped and removed
    afterwards, also when the test fails."""
    made: list[Deployment] = []

    def _deploy(scenario: str, **options: object) -> Deployment:
        dep = Deployment(scenario, tmp_path / slug(scenario), fault_template, **options)
        made.append(dep)
        dep.start()
        return dep

    yield _deploy
    for dep in made:
        if dep.row is not None:
            dep.row.outcome = getattr(request.node, "fault_outcome", "error")
        if getattr(request.node, "fault_failed", False):
            try:
                log(f"{dep.scenario}: logs kept in {dep.keep_logs()}")
            except OSError as exc:
                log(f"warning: could not keep the logs of {dep.scenario}: {exc}")
        try:
            dep.close()
        except Exception as exc:  # noqa: BLE001 - report, keep cleaning
            log(f"warning: cleanup of {dep.scenario}: {exc}")


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    if not RESULTS:
        return
    terminalreporter.write_sep("=", "fault suite results")
    terminalreporter.write_line(TABLE_HEADER)
    for row in sorted(RESULTS, key=lambda r: r.scenario):
        terminalreporter.write_line(row.markdown())
