"""What `uvicorn worker.api.main:app` serves: the app with a runtime built from the environment
when the server starts (once per uvicorn worker process)."""

from worker.api.app import create_app

app = create_app()
