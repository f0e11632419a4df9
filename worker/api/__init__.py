"""The HTTP API (FastAPI): the control plane around the worker. `create_app` builds it."""
