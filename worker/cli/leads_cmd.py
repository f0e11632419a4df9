"""`agent-runtime leads erase` — remove one lead's messages, drafts and memory everywhere."""

from __future__ import annotations

import typer

from worker.cli.common import fail, lead_secret, print_json, session_scope, settings
from worker.leads import lead_key
from worker.store.erase import erase_lead

app = typer.Typer(help="Leads: the people who wrote to a client.")


@app.command("erase")
def erase(
    client_id: str,
    lead: str = typer.Option(None, "--lead", help="the producer's leadId"),
    email: str = typer.Option(None, "--email", help="the lead's e-mail address (matched by HMAC)"),
) -> None:
    """Erase a lead of CLIENT_ID and print what was removed."""
    if (lead is None) == (email is None):
        fail("give either --lead or --email")
    cfg = settings()
    secret = lead_secret(cfg)
    if email is not None and secret is None:
        fail("LEAD_HASH_KEY is required to find a lead by e-mail address")
    key = lead_key(lead, email, secret or b"")
    if key is None:
        fail("the e-mail address is empty")
    with session_scope(cfg) as session:
        removed = erase_lead(session, client_id, key)
    print_json({
        "clientId": client_id,
        "lead": lead if lead is not None else "(e-mail address, matched by its HMAC)",
        "removed": removed,
        # Published drafts live on in the outbound stream until its consumers trim it.
        "notRemoved": "entries already published to the outbound Redis streams",
    })
