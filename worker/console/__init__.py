"""The review console: server-rendered pages served by `agent-runtime api` at `/`, for the
people who review drafts (sign-in per reviewer, live queue, draft view, operations)."""
