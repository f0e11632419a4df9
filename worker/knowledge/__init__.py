"""The knowledge base: each client's own documents (price lists, service policies, opening
hours), turned into searchable chunks and shown only to the audience each is meant for.

Read in this order: `extract.py` (file → text) with `bounds.py` and `sandbox.py` (what one
file may cost: cheap checks, then a child process with memory and time limits), `chunking.py`
(text → chunks), `audience.py` (who may see what), `paths.py` (names and folders), `library.py`
and `folders.py` (the use cases the CLI and the HTTP API call, returning `views.py` values),
`processing.py` and `leases.py` (what the Celery task runs), `query_terms.py` (search terms and
snippets). SQL lives in `worker/store/knowledge.py` (search, audiences, chunks),
`kb_documents.py`, `kb_folders.py` and `kb_leases.py`.
"""
