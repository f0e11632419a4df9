"""JSON request bodies parsed strictly, on every route of the API.

Python's json module accepts `NaN`, `Infinity` and `1e999` (as infinity) and lone surrogates
(`"\\ud800"`); none can be stored or sent back, and the probe found each turning into a 500.
orjson refuses them all as invalid JSON, which FastAPI answers with 422 `json_invalid`.
Every router of the API is built with `route_class=StrictJSONRoute` (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())  # JSONDecodeError: a 422
        return self._json


class StrictJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict
