"""What the public listener gives away and how long it lets a stranger hold it: huge headers
are a 431 before any key check, a stalled body or trickling headers a 408 within
API_READ_TIMEOUT_SECONDS, the docs are off unless asked for, and metrics need a key."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.api.conftest import Api, serve


@pytest.fixture
def strict_api(make_runtime) -> Iterator[Api]:  # noqa: ANN001
    yield from serve(make_runtime, api_read_timeout_seconds=1.0, metrics_token="scrape-me")


def _connect(api: Api) -> socket.socket:
    url = urlparse(api.server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    return sock


def _status(sock: socket.socket) -> tuple[int, float]:
    started = time.monotonic()
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]), time.monotonic() - started


def test_a_megabyte_of_headers_is_a_431_before_the_key_is_looked_at(strict_api):
    sock = _connect(strict_api)
    head = (b"GET /api/agent/config/active HTTP/1.1\r\nHost: x\r\n"
            + b"X-Pad: " + b"a" * (1024 * 1024) + b"\r\n\r\n")
    try:
        sock.sendall(head)
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed as soon as it was past the limit
    status, _ = _status(sock)
    assert status == 431
    ok = strict_api.server.client().get("/api/agent/config/active", headers={"X-Pad": "a" * 8000})
    assert ok.status_code == 401  # ordinary headers still reach the key check


def test_a_body_that_declares_40_mb_and_stalls_is_cut_off_with_408(strict_api):
    http = strict_api.client_with_key("dealer-a")
    sock = _connect(strict_api)
    sock.sendall(
        b"POST /api/agent/kb/documents?filename=big.md HTTP/1.1\r\nHost: x\r\n"
        b"X-API-Key: " + http.headers["X-API-Key"].encode() + b"\r\n"
        b"Content-Type: text/markdown\r\nContent-Length: 41943040\r\n\r\n" + b"# Hours\n" * 1000)
    status, waited = _status(sock)
    assert status == 408 and waited < 5
    assert http.get("/api/agent/kb/documents").json()["documents"] == []  # nothing stored


def test_headers_that_trickle_in_are_cut_off_with_408(strict_api):
    sock = _connect(strict_api)
    started = time.monotonic()
    sock.sendall(b"GET /api/agent/health HTTP/1.1\r\n")
    for _ in range(6):  # a byte now and then keeps no connection alive forever
        time.sleep(0.3)
        try:
            sock.sendall(b"X")
        except (BrokenPipeError, ConnectionResetError):
            break
    status, _ = _status(sock)
    assert status == 408 and time.monotonic() - started < 5


def test_a_slow_but_steady_upload_is_not_cut_off(strict_api):
    http = strict_api.client_with_key("dealer-a")
    body = b"# Hours\n\nOpen Monday to Friday.\n" * 50

    def slowly():  # noqa: ANN202
        for i in range(0, len(body), len(body) // 5):
            time.sleep(0.4)  # 2 s in all, each pause within the 1 s bound
            yield body[i:i + len(body) // 5]

    r = http.post("/api/agent/kb/documents?filename=hours.md", content=slowly(),
                  headers={"Content-Type": "text/markdown"})
    assert r.status_code == 201, r.text


def test_docs_are_off_by_default_and_metrics_need_a_key(strict_api):
    anonymous = strict_api.server.client()
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert anonymous.get(path).status_code == 404
    assert anonymous.get("/metrics").status_code == 401
    assert strict_api.client_with_key("dealer-a").get("/metrics").status_code == 401
    scraped = anonymous.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert scraped.status_code == 200 and "agent_http_requests_total" in scraped.text
    assert anonymous.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert strict_api.admin().get("/metrics").status_code == 200


def test_docs_can_be_switched_on(api_docs):
    anonymous = api_docs.server.client()
    assert anonymous.get("/openapi.json").json()["info"]["title"] == "agent-runtime API"
    assert anonymous.get("/docs").status_code == 200
