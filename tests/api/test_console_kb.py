"""The console's knowledge-base pages over HTTP: an admin uploads (the same use case as the
API, processed in the background), renames, moves, deletes one or many, retries a failed
document, edits an audience and previews what recall shows a lead with given tags; a reviewer
who is not an admin reads but cannot change; another client's documents do not exist."""

from __future__ import annotations

import re

from tests.api.console_support import add_reviewer, csrf_of, sign_in

HOURS = b"# Service\n\n## Opening hours\n\nOur workshop is open Monday to Friday 8-18.\n"
VIP = b"# VIP service\n\nFleet customers get a free courtesy car for every workshop visit.\n"


def _upload(http, csrf: str, name: str, content: bytes, folder: str = ""):  # noqa: ANN001, ANN202
    return http.post("/knowledge/upload", files={"file": (name, content, "text/markdown")},
                     data={"folder": folder},
                     headers={"X-CSRF-Token": csrf, "Accept": "application/json"})


def _admin(api):  # noqa: ANN001, ANN202
    secret = add_reviewer(api.rt, "alpha", "ann", {"name": "Ava"}, admin=True)
    http = sign_in(api.server.url, "alpha", "ann", secret)
    page = http.get("/knowledge")
    assert page.status_code == 200
    return http, csrf_of(page.text)


def _row(page: str, name: str) -> str:
    found = re.search(r'<tr data-id="\w+" data-status="\w+">(?:(?!</tr>).)*?>'
                      + re.escape(name) + "<.*?</tr>", page, re.S)
    assert found, f"{name} is not listed"
    return found.group(0)


def test_upload_watch_it_turn_ready_then_rename_move_and_delete(api):
    http, csrf = _admin(api)
    sent = _upload(http, csrf, "hours.md", HOURS, folder="service")
    assert sent.status_code == 201, sent.text
    doc_id = sent.json()["id"]
    assert sent.json()["status"] == "queued"
    api.documents.join()
    table = http.get("/knowledge/table", params={"folder": "service"}).text
    assert 'data-status="ready"' in _row(table, "hours.md")
    assert "hx-trigger" not in table  # nothing under way: the table stops polling
    tree = re.search(r'<ul class="tree-list" id="kb-tree" hx-swap-oob="true">.*?</ul>', table, re.S)
    assert tree and ">service</a> <span class=\"hint small\">(1)</span>" in tree.group(0)
    page = http.get("/knowledge", params={"folder": "service"}).text
    assert "service" in page and "(1)" in page  # the tree counts it

    renamed = http.post(f"/knowledge/documents/{doc_id}/rename",
                        data={"csrf": csrf, "filename": "opening-hours.md"})
    assert renamed.status_code == 303
    moved = http.post(f"/knowledge/documents/{doc_id}/move", data={"csrf": csrf, "to": "info"})
    assert moved.status_code == 303
    shown = api.client_with_key("alpha").get(f"/api/agent/kb/documents/{doc_id}").json()
    assert shown["path"] == "info/opening-hours.md" and shown["status"] == "ready"

    taken = _upload(http, csrf, "other.md", VIP, folder="info").json()["id"]
    clash = http.post(f"/knowledge/documents/{taken}/rename",
                      data={"csrf": csrf, "filename": "opening-hours.md"})
    assert clash.status_code == 409 and "exists already" in clash.text

    gone = http.post("/knowledge/bulk-delete", data={"csrf": csrf, "folder": "info",
                                                      "ids": [doc_id, taken]})
    assert gone.status_code == 303
    assert api.client_with_key("alpha").get("/api/agent/kb/documents").json()["documents"] == []


def test_a_failed_upload_shows_its_reason_and_is_retried(api):
    http, csrf = _admin(api)
    doc_id = http.post("/knowledge/upload",
                       files={"file": ("broken.pdf", b"%PDF-1.4 nothing useful", "application/pdf")},
                       headers={"X-CSRF-Token": csrf, "Accept": "application/json"}).json()["id"]
    api.documents.join()
    row = _row(http.get("/knowledge").text, "broken.pdf")
    assert 'data-status="failed"' in row and "PDF could not be read" in row and "Retry" in row
    retried = http.post(f"/knowledge/documents/{doc_id}/retry", data={"csrf": csrf})
    assert retried.status_code == 303
    page = http.get(retried.headers["location"]).text
    assert "Queued again." in page
    api.documents.join()
    assert "PDF could not be read" in http.get(f"/knowledge/documents/{doc_id}").text


def test_the_audience_editor_and_preview_as_a_lead(api):
    http, csrf = _admin(api)
    public = _upload(http, csrf, "hours.md", HOURS).json()["id"]
    vip = _upload(http, csrf, "vip.md", VIP).json()["id"]
    saved = http.post(f"/knowledge/documents/{vip}/audience",
                      data={"csrf": csrf, "segments": "tier:vip\ntier:fleet", "user_ids": "u-7"})
    assert saved.status_code == 303
    page = http.get(f"/knowledge/documents/{vip}").text
    assert "2 tags and 1 user id" in page
    refused = http.post(f"/knowledge/documents/{vip}/audience",
                        data={"csrf": csrf, "segments": "no colon here", "user_ids": ""})
    assert refused.status_code == 400 and "GROUP_ID:ITEM_ID" in refused.text
    assert "no colon here" in refused.text  # what was typed stays in the editor
    api.documents.join()

    anyone = http.get("/knowledge/preview", params={"q": "courtesy car workshop"}).text
    assert "hours.md" in anyone and "vip.md" not in anyone
    tagged = http.get("/knowledge/preview", params={"q": "courtesy car", "segments": "tier:vip"})
    hits = tagged.text[tagged.text.index('id="hits-h"'):tagged.text.index('id="visible-h"')]
    assert "vip.md" in hits and "courtesy car" in hits
    by_user = http.get("/knowledge/preview", params={"q": "courtesy car", "user": "u-7"}).text
    assert "vip.md" in by_user
    assert public in anyone  # the visible list links every document the lead may see


def test_a_reviewer_who_is_not_an_admin_reads_but_cannot_change(api):
    http, csrf = _admin(api)
    doc_id = _upload(http, csrf, "hours.md", HOURS).json()["id"]
    secret = add_reviewer(api.rt, "alpha", "kim")
    kim = sign_in(api.server.url, "alpha", "kim", secret)
    page = kim.get("/knowledge").text
    assert "hours.md" in page and 'id="upload-form"' not in page
    kim_csrf = csrf_of(page)
    assert _upload(kim, kim_csrf, "x.md", b"# x\n\nhello\n").status_code == 403
    assert kim.post(f"/knowledge/documents/{doc_id}/delete",
                    data={"csrf": kim_csrf}).status_code == 403
    assert kim.post("/knowledge/bulk-delete",
                    data={"csrf": kim_csrf, "ids": [doc_id]}).status_code == 403
    assert len(api.client_with_key("alpha").get("/api/agent/kb/documents").json()["documents"]) == 1


def test_without_the_csrf_token_nothing_changes_and_another_client_sees_nothing(api):
    http, csrf = _admin(api)
    refused = http.post("/knowledge/upload", files={"file": ("a.md", b"# a\n\nhi\n")},
                        headers={"Accept": "application/json"})
    assert refused.status_code == 403
    doc_id = _upload(http, csrf, "hours.md", HOURS).json()["id"]
    assert http.post(f"/knowledge/documents/{doc_id}/delete", data={}).status_code == 403
    secret = add_reviewer(api.rt, "beta", "bob", admin=True)
    bob = sign_in(api.server.url, "beta", "bob", secret)
    bob_csrf = csrf_of(bob.get("/knowledge").text)
    assert bob.get(f"/knowledge/documents/{doc_id}").status_code == 404
    assert "hours.md" not in bob.get("/knowledge").text
    assert "hours.md" not in bob.get("/knowledge/preview", params={"q": "workshop"}).text
    assert bob.post(f"/knowledge/documents/{doc_id}/delete",
                    data={"csrf": bob_csrf}).status_code == 404
    bob.post("/knowledge/bulk-delete", data={"csrf": bob_csrf, "ids": [doc_id]})
    shown = api.client_with_key("alpha").get(f"/api/agent/kb/documents/{doc_id}")
    assert shown.status_code == 200
