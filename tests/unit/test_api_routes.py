"""Every route of the API parses JSON strictly (a router added without StrictJSONRoute would
let NaN, Infinity and lone surrogates through to a 500)."""

from fastapi.routing import APIRoute

from worker.api.app import create_app
from worker.api.strict_json import StrictJSONRoute
from worker.settings import Settings


def _routes(routes):  # noqa: ANN001, ANN202
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI keeps included routers
        if inner is not None:
            yield from _routes(inner.routes)
        else:
            yield route


def test_every_route_parses_json_strictly():
    app = create_app(Settings())
    # The review console's pages (worker.console) take HTML forms only, never a JSON body.
    routes = [r for r in _routes(app.routes) if isinstance(r, APIRoute)
              and not r.endpoint.__module__.startswith("worker.console")]
    assert len(routes) > 20
    assert [r.path for r in routes if not isinstance(r, StrictJSONRoute)] == []
