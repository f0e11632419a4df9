"""`agent-runtime memory import|search`, `drafts approve|edit|reject` and `leads erase` as an
operator runs them (CONTRACT.md, Command line)."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, select

from tests.integration.conftest import set_config
from tests.integration.test_cli import _run
from tests.integration.test_drafting import _draft
from worker.store.models import Draft

RESULT_KEYS = {"id", "externalId", "kind", "score", "snippet", "clientId"}


def _register(env: dict, tmp_path, *clients: str) -> None:  # noqa: ANN001
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"name": "Ava"}))
    for client in clients:
        assert _run(env, "config", "set", client, "--file", str(path)).returncode == 0


def _jsonl(path, rows: list) -> str:  # noqa: ANN001
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return str(path)


HISTORY = [
    {"text": "Lena asked whether the Tiguan can tow a caravan", "kind": "inbound_message",
     "leadId": "lena", "conversationId": "t1", "createdAt": "2025-03-01T10:00:00Z",
     "externalId": "old-1"},
    {"text": "Yes, the Tiguan tows up to 2,500 kg", "kind": "approved_reply", "leadId": "lena",
     "conversationId": "t1", "createdAt": "2025-03-01T10:05:00Z", "externalId": "old-2"},
    {"text": "Lena prefers calls after 6 pm", "kind": "note", "leadEmail": "Lena@Example.com",
     "externalId": "old-3"},
    {"text": "Showroom closed on public holidays", "externalId": "old-4"},
]


def test_import_then_search_prints_the_contract_format(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "LEAD_HASH_KEY": "k"}
    _register(env, tmp_path, "dealer-a", "dealer-b")
    items = _jsonl(tmp_path / "items.jsonl", HISTORY)
    done = _run(env, "memory", "import", "dealer-a", "--file", items)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"clientId": "dealer-a", "imported": 4, "alreadyThere": 0,
                                       "invalid": 0}
    again = json.loads(_run(env, "memory", "import", "dealer-a", "--file", items).stdout)
    assert (again["imported"], again["alreadyThere"]) == (0, 4)  # externalId: written once
    _run(env, "memory", "import", "dealer-b", "--file", items)  # the same history elsewhere

    out = _run(env, "memory", "search", "dealer-a", "--query", "can it tow a caravan?",
               "--lead", "lena", "--k", "2")
    assert out.returncode == 0, out.stderr
    [line] = out.stdout.splitlines()
    answer = json.loads(line)
    assert answer["query"] == "can it tow a caravan?"
    assert [r["externalId"] for r in answer["results"]] == ["old-1", "old-2"]
    assert all(r.keys() == RESULT_KEYS and r["clientId"] == "dealer-a"
               for r in answer["results"])
    assert answer["results"][0]["score"] == 1.0
    assert answer["results"][0]["kind"] == "inbound_message"
    assert "caravan" in answer["results"][0]["snippet"]


def test_search_file_answers_each_line_and_other_leads_history_stays_out(database_url,
                                                                        tmp_path):
    env = {"DATABASE_URL": database_url, "LEAD_HASH_KEY": "k"}
    _register(env, tmp_path, "dealer-a")
    _run(env, "memory", "import", "dealer-a", "--file", _jsonl(tmp_path / "i.jsonl", HISTORY))
    queries = _jsonl(tmp_path / "q.jsonl", [
        {"query": "tow caravan", "leadId": "someone-else"},
        {"query": "holidays"},
    ])
    out = _run(env, "memory", "search", "dealer-a", "--file", queries)
    first, second = (json.loads(line) for line in out.stdout.splitlines())
    # Another lead sees the client's approved reply and notes, not Lena's own message.
    assert "old-1" not in [r["externalId"] for r in first["results"]]
    assert first["results"][0]["externalId"] == "old-2"
    assert second["results"][0]["externalId"] == "old-4"  # no lead: the whole client


def test_import_reports_invalid_lines_and_keeps_the_good_ones(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "LEAD_HASH_KEY": "k"}
    _register(env, tmp_path, "dealer-a")
    path = _jsonl(tmp_path / "items.jsonl", [
        {"text": "fine"}, "{broken", {"text": "   "}, {"text": "x", "kind": "gossip"},
        {"text": "also fine", "createdAt": "2025-01-01T00:00:00+02:00"},
    ])
    done = _run(env, "memory", "import", "dealer-a", "--file", path)
    assert done.returncode == 1
    assert json.loads(done.stdout)["imported"] == 2 and json.loads(done.stdout)["invalid"] == 3
    assert "line 2" in done.stderr and "line 3" in done.stderr and "line 4" in done.stderr
    unknown = _run(env, "memory", "import", "nobody", "--file", path)
    assert unknown.returncode == 2 and "not registered" in unknown.stderr


def test_drafts_review_commands_and_leads_erase(make_runtime, database_url, tmp_path):
    rt = make_runtime()
    set_config(rt, "dealer-a")
    for event, lead in (("e1", "L1"), ("e2", "L2"), ("e3", "L3")):
        _draft(rt, "dealer-a", {"eventId": event, "message": f"Question {event}",
                                "leadId": lead})
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Draft.event_id, Draft.id)).all())
    engine.dispose()
    env = {"DATABASE_URL": database_url, "LEAD_HASH_KEY": "test-secret"}

    approved = json.loads(_run(env, "drafts", "approve", "dealer-a", ids["e1"]).stdout)
    assert approved["status"] == "approved"
    edited = json.loads(_run(env, "drafts", "edit", "dealer-a", ids["e2"], "--text",
                             "Better words").stdout)
    assert edited["status"] == "edited" and edited["editedText"] == "Better words"
    assert edited["editDistance"] > 0 and edited["reply"] != "Better words"
    rejected = json.loads(_run(env, "drafts", "reject", "dealer-a", ids["e3"], "--reason",
                               "wrong price").stdout)
    assert rejected["status"] == "rejected" and rejected["reason"] == "wrong price"
    shown_draft = json.loads(_run(env, "drafts", "show", "dealer-a", ids["e2"]).stdout)
    assert shown_draft["status"] == "edited" and shown_draft["editedText"] == "Better words"
    twice = _run(env, "drafts", "approve", "dealer-a", ids["e3"])
    assert twice.returncode == 2 and "rejected, not pending_review" in twice.stderr
    assert json.loads(_run(env, "drafts", "rejections", "dealer-a").stdout) == [
        {"configVersion": 1, "rejected": 1}]
    shown = json.loads(_run(env, "memory", "search", "dealer-a", "--query", "Better words",
                            "--lead", "L2").stdout)
    assert shown["results"][0]["kind"] == "approved_reply"

    erased = _run(env, "leads", "erase", "dealer-a", "--lead", "L2")
    assert erased.returncode == 0, erased.stderr
    removed = json.loads(erased.stdout)["removed"]
    assert removed["inboundMessages"] == 1 and removed["drafts"] == 1
    assert removed["memoryItems"] == 2 and removed["leads"] == 1
    again = json.loads(_run(env, "leads", "erase", "dealer-a", "--lead", "L2").stdout)
    assert set(again["removed"].values()) == {0}
