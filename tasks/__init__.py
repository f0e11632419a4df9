"""How it runs: the Celery wiring. The only package that imports celery."""
