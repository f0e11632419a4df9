"""How `agent-runtime api` serves: uvicorn (httptools) with the two bounds it lacks.

uvicorn 0.54 has no limit on header size with httptools (`h11_max_incomplete_event_size` only
bounds the slower h11 parser, and answers 400, not 431) and no timeout while it reads a
request: `timeout_keep_alive` covers the idle time *between* requests only. So the protocol
is a small subclass of uvicorn's own:

- headers (request line included) past API_MAX_HEADER_BYTES: 431 and the connection closed,
  before any of it reaches the app or the key check;
- a request whose headers are not complete within API_READ_TIMEOUT_SECONDS, or whose body
  sends nothing for that long (a body declaring 40 MB that stalls): 408 and closed. Time the
  app itself spends before reading on (our own back-pressure) does not count.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from worker.settings import Settings


class ApiConfig(uvicorn.Config):
    def __init__(self, app: Any, *, max_header_bytes: int = 65536,
                 read_timeout_seconds: float = 10.0, **kwargs: Any):
        super().__init__(app, http=BoundedHttpProtocol, **kwargs)
        self.max_header_bytes = max_header_bytes
        self.read_timeout_seconds = read_timeout_seconds


class BoundedHttpProtocol(HttpToolsProtocol):
    """States: idle (between requests), headers, body, discard (answered before the body
    ended; uvicorn drops the rest)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._max_header_bytes: int = getattr(config, "max_header_bytes", 65536)
        self._read_timeout: float = getattr(config, "read_timeout_seconds", 10.0)
        self._header_bytes = 0
        self._state = "idle"
        self._timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        if self._state in ("idle", "headers"):
            self._header_bytes += len(data)
        super().data_received(data)
        if self._state == "headers" and self._header_bytes > self._max_header_bytes:
            self._refuse(431, "Request Header Fields Too Large",
                         f"request headers larger than {self._max_header_bytes} bytes")
        elif self._state == "body":
            self._arm()  # the body moved: the stall clock starts again

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._state = "headers"
        self._arm()  # the headers must be complete within the timeout, however they trickle

    def on_headers_complete(self) -> None:
        self._state = "body"
        super().on_headers_complete()
        self._arm()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._state = "idle"
        self._header_bytes = 0
        self._disarm()

    def on_response_complete(self) -> None:
        if self._state == "body":  # answered before the body ended: no clock on the rest
            self._state = "discard"
            self._disarm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._timer = self.loop.call_later(self._read_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        if self._state == "body" and self.flow.read_paused:  # the app has not read on yet
            self._arm()
        elif self._state in ("headers", "body"):
            self._refuse(408, "Request Timeout",
                         f"the request was not received within {self._read_timeout:g} s")

    def _refuse(self, status: int, reason: str, message: str) -> None:
        """Answer (unless the app already started to) and close; an app reading the body
        sees the client gone."""
        cycle = self.cycle if self._state == "body" else None
        self._state = "idle"
        self._disarm()
        started = cycle is not None and cycle.response_started
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        if not started and not self.transport.is_closing():
            body = message.encode()
            self.transport.write(
                b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s"
                % (status, reason.encode(), len(body), body))
        self.transport.close()


def api_config(app: Any, settings: Settings, **kwargs: Any) -> ApiConfig:
    """The server of `agent-runtime api` (and of the API tests)."""
    return ApiConfig(
        app, max_header_bytes=settings.api_max_header_bytes,
        read_timeout_seconds=settings.api_read_timeout_seconds, log_config=None,
        access_log=False, **kwargs)


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """uvicorn.run, with the bounded protocol."""
    from uvicorn.supervisors import Multiprocess

    config = api_config("worker.api.main:app", settings, host=host, port=port, workers=workers,
                        timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
    if not server.started and config.workers == 1:
        raise SystemExit(os.EX_SOFTWARE)
