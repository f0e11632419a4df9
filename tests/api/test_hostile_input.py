"""Abusive input is refused with a 4xx whose body can always be read back — never a 500:
non-finite numbers and lone surrogates in any JSON body, numbers past what the stores hold,
folders nested past the bound (and a tree that renders whatever is stored)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from worker.store.models import new_id

JSON_ENDPOINTS = [
    ("POST", "/api/agent/reply", '{"message": %s}'),
    ("PUT", "/api/agent/config/active", '{"name": "A", "dailyCostBudgetUsd": %s}'),
    ("POST", "/api/agent/drafts/01J000000000000000000000AB/approve", '{"reviewer": %s}'),
    ("POST", "/api/agent/drafts/01J000000000000000000000AB/edit", '{"text": %s}'),
    ("POST", "/api/agent/drafts/01J000000000000000000000AB/reject", '{"reason": %s}'),
    ("PATCH", "/api/agent/kb/documents/01J000000000000000000000AB", '{"filename": %s}'),
    ("PUT", "/api/agent/kb/documents/01J000000000000000000000AB/segmentation",
     '{"userIds": [%s]}'),
    ("PUT", "/api/agent/kb/segmentation", '{"01J000000000000000000000AB": {"userIds": [%s]}}'),
    ("POST", "/api/agent/kb/folders", '{"path": %s}'),
    ("PATCH", "/api/agent/kb/folders", '{"path": "a", "newPath": %s}'),
]
POISON = ["NaN", "Infinity", "-Infinity", "1e999", '"a\\ud800b"', '"\\udfff"']


def test_non_finite_numbers_and_lone_surrogates_are_a_readable_422_on_every_json_endpoint(api):
    http = api.client_with_key("dealer-a")
    for method, path, body in JSON_ENDPOINTS:
        for value in POISON:
            r = http.request(method, path, content=(body % value).encode(),
                             headers={"Content-Type": "application/json"})
            assert r.status_code == 422, (method, path, value, r.text)
            detail = r.json()["detail"]  # decodes: the body was encodable
            assert detail[0]["type"] == "json_invalid"
            assert "ud800" not in r.text and "udfff" not in r.text and "input" not in detail[0]


def test_a_validation_error_never_echoes_what_was_sent(api):
    http = api.client_with_key("dealer-a")
    secret = "x" * 300 + "SECRET"
    r = http.put("/api/agent/config/active", json={"name": "A", "rateLimitPerMinute": secret})
    assert r.status_code == 422
    assert "SECRET" not in r.text
    assert r.json()["detail"][0]["loc"] == ["body", "rateLimitPerMinute"]


@pytest.mark.parametrize("field, value", [
    ("rateLimitPerMinute", 1e30), ("rateLimitPerMinute", 2**63), ("rateLimitPerMinute", -1),
    ("dailyTokenBudget", 2**63), ("dailyTokenBudget", 1e30), ("dailyCostBudgetUsd", 1e300),
])
def test_numeric_config_fields_are_bounded_by_what_their_stores_hold(api, field, value):
    http = api.client_with_key("dealer-a")
    r = http.put("/api/agent/config/active",
                 content=json.dumps({"name": "A", field: value}).encode(),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", field]
    assert http.get("/api/agent/config/active").json()["version"] == 0  # nothing stored
    ok = http.put("/api/agent/config/active",
                  json={"name": "A", "rateLimitPerMinute": 600, "dailyTokenBudget": 2**53 - 1})
    assert ok.status_code == 200 and ok.json()["rateLimitPerMinute"] == 600


def test_folders_nest_at_most_32_levels_and_the_tree_renders_deeper_legacy_ones(api):
    http = api.client_with_key("dealer-a")
    ok = "/".join(f"f{i}" for i in range(32))
    assert http.post("/api/agent/kb/folders", json={"path": ok}).status_code == 201
    too_deep = "/".join(["a"] * 400)  # 799 characters: within the path length
    r = http.post("/api/agent/kb/folders", json={"path": too_deep})
    assert r.status_code == 400 and "at most 32 levels" in r.json()["detail"]
    r = http.patch("/api/agent/kb/folders", json={"path": "f0", "newPath": "x/y"})
    assert r.status_code == 400 and "32 levels" in r.json()["detail"]  # the move would nest 33
    # A folder 400 levels deep stored before the bound existed: the tree still answers.
    with api.rt.sessions.begin() as session:
        parts = ["d"] * 400
        for i in range(1, len(parts) + 1):
            session.execute(text("INSERT INTO kb_folders (id, client_id, path, created_at) "
                                 "VALUES (:id, 'dealer-a', :p, now())"),
                            {"id": new_id(), "p": "/".join(parts[:i])})
    tree = http.get("/api/agent/kb/folders/tree")
    assert tree.status_code == 200
    depth, node = 0, tree.json()
    while node["folders"]:
        node = node["folders"][0]  # the "d/d/…" chain comes first
        depth += 1
    assert depth <= 32
    assert len(http.get("/api/agent/kb/folders").json()["folders"]) == 432


def _upload(http, name: str, body: bytes = b"# Hours\n\nOpen Monday.", folder: str = ""):  # noqa: ANN001
    return http.post("/api/agent/kb/documents", params={"filename": name, "folder": folder},
                     content=body, headers={"Content-Type": "text/markdown"})


def test_lookalike_file_names_are_one_document_per_folder(api):
    http = api.client_with_key("dealer-a")
    first = _upload(http, "Prices.md")
    assert first.status_code == 201
    doc_id = first.json()["id"]
    for lookalike in ("PRICES.md", "prices.MD", "\uff30\uff52\uff49\uff43\uff45\uff53.md"):
        again = _upload(http, lookalike)
        assert again.status_code == 200 and again.json()["id"] == doc_id, lookalike
        assert again.json()["replaced"] is True
    nfd, nfc = "Cafe\u0301.md", "Caf\u00e9.md"
    assert _upload(http, nfd).status_code == 201
    stored = _upload(http, nfc)
    assert stored.status_code == 200 and stored.json()["filename"] == nfc  # kept in NFC
    assert len(http.get("/api/agent/kb/documents").json()["documents"]) == 2
    assert _upload(http, "PRICES.md", folder="other").status_code == 201  # per folder
    # a rename onto a lookalike of another document is a conflict; a case change of its own
    # name is not
    cafe = stored.json()["id"]
    clash = http.patch(f"/api/agent/kb/documents/{cafe}", json={"filename": "prices.md"})
    assert clash.status_code == 409 and "ignoring case" in clash.json()["detail"]
    own = http.patch(f"/api/agent/kb/documents/{doc_id}", json={"filename": "prices.md"})
    assert own.status_code == 200 and own.json()["filename"] == "prices.md"


@pytest.mark.parametrize("name", [
    "pri\u200bces.md",  # zero-width space
    "invoice\u202etxt.exe.md",  # right-to-left override
    "\u2066hours\u2069.md",  # bidi isolates
    "hours\U000e0041.md",  # a tag character
])
def test_file_and_folder_names_with_invisible_format_characters_are_a_422(api, name):
    http = api.client_with_key("dealer-a")
    r = _upload(http, name)
    assert r.status_code == 422 and "invisible format characters" in r.json()["detail"]
    r = http.post("/api/agent/kb/folders", json={"path": f"service/{name}"})
    assert r.status_code == 422 and "U+" in r.json()["detail"]
    assert http.get("/api/agent/kb/documents").json()["documents"] == []


def test_an_executable_named_txt_is_refused_with_415(api):
    from tests.support.hostile import executable_as_text

    http = api.client_with_key("dealer-a")
    r = http.post("/api/agent/kb/documents", params={"filename": "notes.txt"},
                  content=executable_as_text(), headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and "holds an executable" in r.json()["detail"]
    assert http.get("/api/agent/kb/documents").json()["documents"] == []
