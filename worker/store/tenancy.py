"""Row-level security: which tenant a transaction may see, set by the store itself.

Defence in depth behind the `client_id = :client` every query already has (migration 0012):
Postgres shows a transaction only the rows of the client named in its `app.client_id`
setting, on every tenant table. A query that forgot its WHERE, or a transaction nobody bound,
sees nothing and can write nothing.

- `bind(session, client_id)`: every store function that takes a `client_id` calls it first. It
  runs one statement per transaction (`set_config(..., true)`, so it ends with the transaction
  and a pooled connection never carries it over) and is a no-op when the transaction is already
  bound to that client. `statement_timeout=` puts the transaction's statement budget in the
  same statement (the draft's claim + recall transaction: one round trip instead of three).
- `all_clients(session)`: the narrow bypass, called only by the store functions that by nature
  read across tenants and hand each row back to its own tenant: the scheduler's sweeps (due
  messages, stuck documents, unpublished outbox rows), ingress storing a batch of several
  clients, retention, stats and the operator's CLI listings. It is a separate setting, not a
  separate role, so the bypass is visible in the code that takes it and greppable.

Both also switch the transaction to the `agent_runtime_app` role (`DB_APP_ROLE`, created by the
migration without login and without BYPASSRLS): a superuser or a table owner would otherwise
pass RLS whatever the settings say. In production `DATABASE_URL` should name a login that is
not a superuser and is a member of that role; then even a transaction the store never bound
runs under RLS and sees nothing.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.orm import Session

APP_ROLE = "agent_runtime_app"
_KEY = "tenancy.bound"  # session.info: what this transaction is bound to
ROLE_KEY = "tenancy.role"  # session.info: the role to switch to ("" = stay as connected)

_ROLE = "set_config('role', :role, true)"
_TENANT = "set_config('app.client_id', :client, true), set_config('app.all_clients', :all, true)"
_TIMEOUT = "set_config('statement_timeout', :timeout, true)"
# The four statements there are (with or without a role switch, with or without a budget),
# built once.
_SET = {
    (role, timeout): text("SELECT " + ", ".join(
        ([_ROLE] if role else []) + [_TENANT] + ([_TIMEOUT] if timeout else [])))
    for role in (True, False) for timeout in (True, False)
}


def bind(session: Session, client_id: str, *, statement_timeout: float | None = None) -> None:
    """This transaction sees and writes `client_id`'s rows only. `statement_timeout` (seconds):
    Postgres cancels any statement of this transaction that runs longer (which aborts the
    transaction: the caller handles that); it must be given on the transaction's first bind,
    since a later bind to the same client is a no-op."""
    _set(session, ("client", client_id), client_id, "", statement_timeout)


def all_clients(session: Session) -> None:
    """This transaction may read and write every tenant's rows (the narrow bypass)."""
    _set(session, ("all",), "", "on", None)


def _set(
    session: Session, state: tuple[str, ...], client: str, all_: str, timeout: float | None
) -> None:
    if session.info.get(_KEY) == state:
        return
    role = session.info.get(ROLE_KEY, APP_ROLE)
    params = {"client": client, "all": all_}
    if role:
        params["role"] = role
    if timeout is not None:
        params["timeout"] = str(max(1, int(timeout * 1000)))  # milliseconds
    session.execute(_SET[(bool(role), timeout is not None)], params)
    session.info[_KEY] = state


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, _transaction) -> None:  # noqa: ANN001
    # Also after a savepoint: a rolled-back savepoint may have undone a set_config made in it,
    # so the next bind states it again (one cheap statement) rather than trust a stale cache.
    session.info.pop(_KEY, None)
