"""`/api/agent/kb/…`: the client's knowledge base — documents, folders, audiences, search.

Only HTTP lives here: every request is one use case of `worker.knowledge.library` or
`worker.knowledge.folders` (the same ones the CLI calls), and a refusal (KnowledgeError) is
answered with its `http_status`. Processing and purging go to the DocumentQueue the app was
built with (Celery in production).
"""

from fastapi import APIRouter

from worker.api.knowledge import audience, documents, folders

router = APIRouter()
for _part in (documents, audience, folders):
    router.include_router(_part.router)
