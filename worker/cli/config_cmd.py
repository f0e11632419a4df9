"""`agent-runtime config set|show|history`."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError

from schema.agent_config import AgentConfigFields
from worker.cli.common import fail, print_json, read_json_file, session_scope
from worker.store import tenants

app = typer.Typer(help="A client's agent config: personality, tone, do/don't lists, models.")

# Keys `config show` adds; accepted (and ignored) by `config set` so its output round-trips.
_SHOW_KEYS = ("clientId", "configId", "version")


def validate_fields(data: dict) -> AgentConfigFields:
    try:
        return AgentConfigFields.model_validate({k: v for k, v in data.items() if k not in _SHOW_KEYS})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in exc.errors()
        )
        fail(f"invalid config: {problems}")
        raise  # unreachable


@app.command("set")
def set_config(
    client_id: str,
    file: Path = typer.Option(..., "--file", help="JSON object with the config fields"),
) -> None:
    """Register CLIENT_ID if new and make this config its active one (a new version)."""
    fields = validate_fields(read_json_file(file))
    with session_scope() as session:
        row = tenants.activate_new_config(session, client_id, fields.as_contract_json(),
                                           register=True)
        result = {"clientId": client_id, "configId": row.id, "version": row.version}
    from worker.cli.keys_cmd import announce_change

    announce_change("config", client_id)  # every worker drops its cached copy now
    print_json(result)


@app.command("show")
def show_config(client_id: str) -> None:
    """Print CLIENT_ID's active config as JSON."""
    with session_scope() as session:
        if not tenants.client_exists(session, client_id):
            fail(f"client {client_id!r} is not registered")
        row = tenants.active_config(session, client_id)
        if row is None:
            out = {"clientId": client_id, "configId": None, "version": 0}
            out |= AgentConfigFields().as_contract_json()
        else:
            out = {"clientId": client_id, "configId": row.id, "version": row.version}
            out |= AgentConfigFields.model_validate(row.fields).as_contract_json()
    print_json(out)


@app.command("history")
def history(client_id: str) -> None:
    """List every config version of CLIENT_ID, newest first."""
    with session_scope() as session:
        rows = [
            {"configId": r.id, "version": r.version, "active": r.active,
             "createdAt": r.created_at.isoformat()}
            for r in tenants.config_history(session, client_id)
        ]
    print_json(rows)
