"""The knowledge base: each client's own documents (price lists, service policies, opening
hours), turned into searchable chunks and shown only to the audience each is meant for.

Read in this order: `extract.py` (file → text), `worker/text/chunking.py` (text → chunks),
`worker/audience.py` (who may see what), `library.py` (the use cases the CLI and the HTTP API
call), `processing.py` (what the Celery task runs), `worker/text/query_terms.py` (search terms
and snippets).
SQL lives in `worker/store/knowledge.py` (search, audiences, chunks) and
`worker/store/kb_documents.py` (documents, folders, leases).
"""
