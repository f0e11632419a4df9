"""The knowledge base over HTTP: upload (raw or multipart, with its audience in the same
transaction), processing in the background, show / rename / move / delete, folders, audiences,
the upload cap, and the same key scoping as the rest of the API."""

from __future__ import annotations

import orjson

KB = "/api/agent/kb"
HOURS = b"# Service\n\n## Opening hours\n\nOur workshop is open Monday to Friday 8-18.\n"
VIP = b"# VIP service\n\nFleet customers get a free courtesy car for every workshop visit.\n"


def _raw(http, name: str, content: bytes, folder: str | None = None,  # noqa: ANN001
         content_type: str = "text/markdown"):  # noqa: ANN202
    params = {"filename": name, **({"folder": folder} if folder is not None else {})}
    return http.post(f"{KB}/documents", params=params, content=content,
                     headers={"Content-Type": content_type})


def _multipart(http, name: str, content: bytes, segmentation=None, **fields: str):  # noqa: ANN001, ANN202
    data = dict(fields)
    if segmentation is not None:
        data["segmentation"] = (segmentation if isinstance(segmentation, str)
                                else orjson.dumps(segmentation).decode())
    return http.post(f"{KB}/documents", files={"file": (name, content, "text/markdown")},
                     data=data)


def _processed(api, http, document_id: str) -> dict:  # noqa: ANN001
    api.documents.join()
    shown = http.get(f"{KB}/documents/{document_id}")
    assert shown.status_code == 200, shown.text
    return shown.json()


def _hits(http, q: str, **audience) -> list[str]:  # noqa: ANN001, ANN003
    found = http.get(f"{KB}/search", params={"q": q, **audience})
    assert found.status_code == 200, found.text
    return [h["title"] for h in found.json()["hits"]]


def test_raw_and_multipart_uploads_are_processed_and_searchable(api):
    http = api.client_with_key("alpha")
    raw = _raw(http, "hours.md", HOURS, folder="service")
    assert raw.status_code == 201, raw.text
    doc = raw.json()
    assert doc["status"] == "queued" and doc["path"] == "service/hours.md"
    assert raw.headers["Location"] == f"{KB}/documents/{doc['id']}"

    multi = _multipart(http, "vip.md", VIP, folder="fleet")
    assert multi.status_code == 201, multi.text
    vip = multi.json()
    assert vip["folder"] == "fleet" and vip["audience"] == "everyone"

    for d in (doc, vip):
        shown = _processed(api, http, d["id"])
        assert shown["status"] == "ready" and shown["chunkCount"] >= 1, shown
    assert _hits(http, "open on friday") == ["hours.md"]
    assert _hits(http, "courtesy car") == ["vip.md"]
    listed = http.get(f"{KB}/documents").json()["documents"]
    assert [d["path"] for d in listed] == ["fleet/vip.md", "service/hours.md"]
    only = http.get(f"{KB}/documents", params={"folder": "fleet", "search": "VIP"})
    assert [d["id"] for d in only.json()["documents"]] == [vip["id"]]


def test_a_re_upload_of_a_name_replaces_the_content_and_keeps_the_id(api):
    http = api.client_with_key("alpha")
    first = _raw(http, "hours.md", HOURS).json()
    again = _raw(http, "hours.md", VIP)
    assert again.status_code == 200 and again.json()["replaced"] is True
    assert again.json()["id"] == first["id"]
    assert _processed(api, http, first["id"])["sha256"] == again.json()["sha256"]
    assert _hits(http, "courtesy car") == ["hours.md"]


def test_a_refused_segmentation_part_leaves_no_upload_behind(api):
    http = api.client_with_key("alpha")
    # The library refuses a blank id inside the upload's transaction: nothing is kept.
    blank = _multipart(http, "vip.md", VIP, {"segments": [{"groupId": " ", "itemId": "x"}]},
                       folder="fleet")
    assert blank.status_code == 400, blank.text
    not_json = _multipart(http, "vip.md", VIP, "{not json")
    assert not_json.status_code == 400, not_json.text
    unknown_field = _multipart(http, "vip.md", VIP, {"groups": ["a"]})
    assert unknown_field.status_code == 422, unknown_field.text
    assert http.get(f"{KB}/documents").json()["documents"] == []
    assert http.get(f"{KB}/folders").json()["folders"] == []

    # Nor does it touch the content of a document of the same name.
    kept = _multipart(http, "vip.md", VIP, {"userIds": ["u-1"]}).json()
    assert _multipart(http, "vip.md", HOURS, {"userIds": [""]}).status_code == 400
    shown = _processed(api, http, kept["id"])
    assert shown["sha256"] == kept["sha256"] and shown["segmentation"]["userIds"] == ["u-1"]


def test_a_segmented_upload_is_only_found_by_its_audience(api):
    http = api.client_with_key("alpha")
    seg = {"segments": [{"groupId": "tier", "itemId": "fleet"}], "userIds": ["u-7"]}
    doc = _multipart(http, "vip.md", VIP, seg).json()
    assert doc["audience"] == "segmented" and doc["segmentation"]["userIds"] == ["u-7"]
    _processed(api, http, doc["id"])
    assert _hits(http, "courtesy car") == []
    assert _hits(http, "courtesy car", userId="u-7") == ["vip.md"]
    assert _hits(http, "courtesy car", segment="tier:fleet") == ["vip.md"]
    assert http.get(f"{KB}/visible", params={"userId": "u-8"}).json()["documents"] == []
    assert http.get(f"{KB}/search", params={"q": "car", "segment": "no-colon"}).status_code == 400
    count = http.get(f"{KB}/documents/{doc['id']}/audience").json()
    assert count == {"everyone": False, "segments": 1, "userIds": 1}


def test_multipart_fields_name_the_file_and_the_segmentation_may_be_a_file_part(api):
    http = api.client_with_key("alpha")
    sent = http.post(f"{KB}/documents", params={"filename": "ignored.md", "folder": "ignored"},
                     files={"file": ("upload.bin", VIP, "application/octet-stream"),
                            "segmentation": ("seg.json", b'{"userIds": ["u-1"]}',
                                             "application/json")},
                     data={"filename": "vip.md", "folder": "fleet"})
    assert sent.status_code == 201, sent.text
    assert sent.json()["path"] == "fleet/vip.md"
    assert sent.json()["segmentation"] == {"segments": [], "userIds": ["u-1"]}
    by_part = _multipart(http, "hours.md", HOURS)
    assert by_part.json()["path"] == "hours.md" and by_part.json()["kind"] == "markdown"


def test_show_rename_move_keep_the_id_and_delete_frees_the_name(api):
    http = api.client_with_key("alpha")
    doc = _raw(http, "hours.md", HOURS).json()
    _raw(http, "taken.md", VIP)

    renamed = http.patch(f"{KB}/documents/{doc['id']}", json={"filename": "opening.md"})
    assert renamed.status_code == 200 and renamed.json()["id"] == doc["id"]
    assert renamed.json()["path"] == "opening.md"
    moved = http.patch(f"{KB}/documents/{doc['id']}", json={"folder": "/service/2026/"})
    assert moved.json()["path"] == "service/2026/opening.md" and moved.json()["id"] == doc["id"]
    both = http.patch(f"{KB}/documents/{doc['id']}", json={"folder": "", "filename": "x.md"})
    assert both.json()["path"] == "x.md"
    assert http.patch(f"{KB}/documents/{doc['id']}",
                      json={"filename": "taken.md"}).status_code == 409
    assert http.patch(f"{KB}/documents/{doc['id']}", json={}).status_code == 400
    assert http.patch(f"{KB}/documents/{doc['id']}",
                      json={"filename": "a/b.md"}).status_code == 400
    assert http.get(f"{KB}/documents/{doc['id']}").json()["path"] == "x.md"

    assert http.delete(f"{KB}/documents/{doc['id']}").status_code == 204
    assert http.get(f"{KB}/documents/{doc['id']}").status_code == 404
    assert http.delete(f"{KB}/documents/{doc['id']}").status_code == 404
    again = _raw(http, "x.md", HOURS)
    assert again.status_code == 201 and again.json()["id"] != doc["id"]
    assert [d["path"] for d in http.get(f"{KB}/documents").json()["documents"]] == [
        "taken.md", "x.md"]


def test_folders_create_rename_tree_and_recursive_delete(api):
    http = api.client_with_key("alpha")
    assert http.post(f"{KB}/folders", json={"path": "prices/2026"}).status_code == 201
    assert http.post(f"{KB}/folders", json={"path": "prices"}).status_code == 409
    assert http.post(f"{KB}/folders", json={"path": "/"}).status_code == 400
    inner = _raw(http, "list.csv", b"model,price\nvan,30000\n", folder="prices/2026",
                 content_type="text/csv").json()
    _raw(http, "hours.md", HOURS)
    assert http.get(f"{KB}/folders").json()["folders"] == ["prices", "prices/2026"]

    renamed = http.patch(f"{KB}/folders", json={"path": "prices", "newPath": "sales/prices"})
    assert renamed.status_code == 200 and renamed.json() == {"path": "sales/prices"}
    assert http.patch(f"{KB}/folders", json={"path": "sales", "newPath": "sales/x"}
                      ).status_code == 400
    assert http.patch(f"{KB}/folders", json={"path": "nope", "newPath": "x"}).status_code == 404
    assert http.get(f"{KB}/documents/{inner['id']}").json()["path"] == "sales/prices/2026/list.csv"

    tree = http.get(f"{KB}/folders/tree").json()
    assert tree["documents"] == 1
    [sales] = tree["folders"]
    assert sales["path"] == "sales" and sales["folders"][0]["folders"][0] == {
        "name": "2026", "path": "sales/prices/2026", "documents": 1, "folders": []}

    deleted = http.delete(f"{KB}/folders", params={"path": "sales"})
    assert deleted.status_code == 200 and deleted.json() == {"path": "sales",
                                                             "deletedDocuments": 1}
    assert http.get(f"{KB}/documents/{inner['id']}").status_code == 404
    assert http.get(f"{KB}/folders").json()["folders"] == []
    assert http.delete(f"{KB}/folders", params={"path": "sales"}).status_code == 404
    assert http.get(f"{KB}/documents", params={"folder": "sales"}).status_code == 404


def test_segmentation_is_replaced_whole_one_or_a_batch_all_or_nothing(api):
    http = api.client_with_key("alpha")
    a = _raw(http, "a.md", HOURS).json()
    b = _raw(http, "b.md", VIP).json()
    one = http.put(f"{KB}/documents/{a['id']}/segmentation", json={"userIds": ["u-1", 42]})
    assert one.status_code == 200 and one.json() == {"segments": [], "userIds": ["42", "u-1"]}

    unknown = http.put(f"{KB}/segmentation", json={b["id"]: {"userIds": ["u-2"]},
                                                   "01NOSUCHDOCUMENT0000000000": {}})
    assert unknown.status_code == 404
    blank = http.put(f"{KB}/segmentation", json={a["id"]: {}, b["id"]: {"userIds": [" "]}})
    assert blank.status_code == 400
    assert http.get(f"{KB}/documents/{a['id']}/audience").json() == {
        "everyone": False, "segments": 0, "userIds": 2}
    assert http.get(f"{KB}/documents/{b['id']}").json()["audience"] == "everyone"

    batch = http.put(f"{KB}/segmentation", json={
        a["id"]: {}, b["id"]: {"segments": [{"groupId": "brand", "itemId": "vw"}]}})
    assert batch.status_code == 200, batch.text
    assert batch.json() == {a["id"]: {"segments": [], "userIds": []},
                            b["id"]: {"segments": [{"groupId": "brand", "itemId": "vw"}],
                                      "userIds": []}}
    assert http.get(f"{KB}/documents/{a['id']}/audience").json()["everyone"] is True


def test_uploads_past_the_cap_are_refused_with_413_and_not_stored(api):
    http = api.client_with_key("alpha")
    api.rt.settings.kb_max_upload_bytes = 1000
    assert _raw(http, "big.md", b"x" * 1001).status_code == 413  # by its Content-Length

    def chunks():  # noqa: ANN202 - no Content-Length: refused while streaming
        for _ in range(10):
            yield b"x" * 300

    streamed = http.post(f"{KB}/documents", params={"filename": "big.md"}, content=chunks(),
                         headers={"Content-Type": "text/markdown"})
    assert streamed.status_code == 413, streamed.text
    assert _multipart(http, "big.md", b"x" * 1001).status_code == 413
    assert _raw(http, "fits.md", b"x" * 1000).status_code == 201
    assert [d["filename"] for d in http.get(f"{KB}/documents").json()["documents"]] == ["fits.md"]


def test_unsupported_or_unnamed_uploads_are_refused(api):
    http = api.client_with_key("alpha")
    assert _raw(http, "photo.jpg", b"\xff\xd8", content_type="image/jpeg").status_code == 415
    assert http.post(f"{KB}/documents", content=HOURS).status_code == 400
    assert _raw(http, "../x.md", HOURS).status_code == 400
    no_file = http.post(f"{KB}/documents", files={"other": ("a.md", HOURS)})
    assert no_file.status_code == 400


def test_another_clients_documents_do_not_exist_for_a_key(api):
    alpha = api.client_with_key("alpha")
    beta = api.client_with_key("beta")
    theirs = _raw(beta, "hours.md", HOURS, folder="service").json()
    _processed(api, beta, theirs["id"])
    doc = f"{KB}/documents/{theirs['id']}"

    assert alpha.get(doc).status_code == 404
    assert alpha.patch(doc, json={"filename": "mine.md"}).status_code == 404
    assert alpha.delete(doc).status_code == 404
    assert alpha.get(f"{doc}/audience").status_code == 404
    assert alpha.put(f"{doc}/segmentation", json={}).status_code == 404
    assert alpha.put(f"{KB}/segmentation", json={theirs["id"]: {}}).status_code == 404
    assert alpha.get(f"{KB}/documents").json()["documents"] == []
    assert alpha.get(f"{KB}/folders").json()["folders"] == []
    assert alpha.delete(f"{KB}/folders", params={"path": "service"}).status_code == 404
    assert _hits(alpha, "friday") == []
    # Same name in alpha's own knowledge base: a document of its own, beta's untouched.
    mine = _raw(alpha, "hours.md", VIP, folder="service")
    assert mine.status_code == 201 and mine.json()["id"] != theirs["id"]
    assert beta.get(doc).json()["sha256"] == theirs["sha256"]


def test_an_admin_key_names_the_client_and_no_key_is_refused(api):
    beta = api.client_with_key("beta")
    theirs = _raw(beta, "hours.md", HOURS).json()
    ops = api.admin()
    assert ops.get(f"{KB}/documents").status_code == 400
    as_beta = ops.get(f"{KB}/documents/{theirs['id']}", headers={"X-Client-Id": "beta"})
    assert as_beta.status_code == 200 and as_beta.json()["id"] == theirs["id"]
    uploaded = ops.post(f"{KB}/documents", params={"filename": "vip.md"}, content=VIP,
                        headers={"X-Client-Id": "beta", "Content-Type": "text/markdown"})
    assert uploaded.status_code == 201
    assert len(beta.get(f"{KB}/documents").json()["documents"]) == 2
    assert ops.get(f"{KB}/documents", headers={"X-Client-Id": "nobody"}).status_code == 404

    anonymous = api.server.client()
    assert anonymous.get(f"{KB}/documents").status_code == 401
    assert anonymous.post(f"{KB}/documents", params={"filename": "a.md"},
                          content=HOURS).status_code == 401
    assert anonymous.get(f"{KB}/documents/{theirs['id']}").status_code == 401
    assert len(beta.get(f"{KB}/documents").json()["documents"]) == 2


def test_a_failed_document_is_retried_and_only_a_failed_one(api):
    http = api.client_with_key("alpha")
    broken = _raw(http, "broken.pdf", b"%PDF-1.4 nothing useful", content_type="application/pdf")
    doc = broken.json()
    failed = _processed(api, http, doc["id"])
    assert failed["status"] == "failed" and "PDF could not be read" in failed["error"]
    first_processed = failed["processedAt"]
    again = http.post(f"{KB}/documents/{doc['id']}/retry")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "queued" and again.json()["error"] is None
    assert set(again.json()) == {  # docs/CONTRACT.md, "retry a failed knowledge-base document"
        "id", "folder", "filename", "path", "kind", "sizeBytes", "sha256", "status", "error",
        "chunkCount", "createdAt", "updatedAt", "processedAt", "segmentation", "audience"}
    refailed = _processed(api, http, doc["id"])
    assert refailed["status"] == "failed" and refailed["processedAt"] > first_processed
    hours = _raw(http, "hours.md", HOURS).json()
    assert _processed(api, http, hours["id"])["status"] == "ready"
    refused = http.post(f"{KB}/documents/{hours['id']}/retry")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "'hours.md' has not failed (it is ready): nothing to retry"
    theirs = api.client_with_key("beta").post(f"{KB}/documents/{doc['id']}/retry")
    assert theirs.status_code == 404 and theirs.json()["detail"] == f"no document {doc['id']!r}"
    assert http.post(f"{KB}/documents/not-an-id!/retry").status_code == 422
