"""Adapters to the outside world: the model (litellm), Redis streams, Celery dispatch."""
