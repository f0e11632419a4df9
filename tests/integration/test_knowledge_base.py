"""The knowledge base on real Postgres: upload → processed → searchable, only by its tenant and
only for its audience; replace, rename, move, delete, folders; stuck work picked up again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import text, update

from tests.support.documents import make_docx, make_pdf
from worker.knowledge import folders, library
from worker.audience import Audience, Segment, Segmentation
from worker.knowledge.errors import Conflict, InvalidInput, NotFound, TooLarge
from worker.knowledge.processing import InlineQueue, process_document, sweep_documents
from worker.settings import Settings
from worker.store import tenants
from worker.store.db import make_engine, make_session_factory
from worker.store.models import KbDocument

pytestmark = pytest.mark.integration

HOURS = b"# Service\n\n## Opening hours\n\nOur workshop is open Monday to Friday 8-18 and Saturday 9-13.\n"
VIP = b"# VIP service\n\nFleet customers get a free courtesy car for every workshop visit.\n"


@dataclass
class Recorder:
    """A DocumentQueue that only remembers what it was handed."""

    processed: list[tuple[str, str]] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)

    def process(self, client_id: str, document_id: str) -> None:
        self.processed.append((client_id, document_id))

    def purge(self, client_id: str) -> None:
        self.purged.append(client_id)


@pytest.fixture
def sessions(database_url) -> Iterator:  # noqa: ANN001
    engine = make_engine(Settings(database_url=database_url))
    factory = make_session_factory(engine)
    with factory.begin() as session:
        for client in ("dealer-a", "dealer-b"):
            tenants.register_client(session, client)
    yield factory
    engine.dispose()


@pytest.fixture
def inline(sessions) -> InlineQueue:  # noqa: ANN001
    return InlineQueue(sessions, outcomes=[])


def upload(sessions, queue, name, content, client="dealer-a", folder="", **kw):  # noqa: ANN001
    return library.upload_document(sessions, queue, client, folder=folder, filename=name,
                                   content=content, **kw).document


def found(sessions, query, client="dealer-a", audience=Audience()) -> list[str]:  # noqa: ANN001
    return [h.document_id for h in library.search(sessions, client, query, audience, limit=20)]


def test_upload_runs_the_celery_task_and_the_document_becomes_ready_and_searchable(make_runtime):
    import tasks.app as celery_wiring
    import tasks.knowledge  # noqa: F401 - registers the kb.* tasks
    from worker.adapters.celery_app import CeleryDocumentQueue

    class Broker:
        """Takes what the API sends, by task name, as Redis would."""

        sent: list[tuple[str, tuple]] = []

        def send_task(self, name: str, args: tuple = (), **_: object) -> None:
            self.sent.append((name, args))

    rt = make_runtime()
    with rt.sessions.begin() as session:
        tenants.register_client(session, "dealer-a")
    broker = Broker()
    doc = upload(rt.sessions, CeleryDocumentQueue(broker), "hours.md", HOURS, folder="service")
    assert [name for name, _ in broker.sent] == ["kb.process_document"]
    previous = celery_wiring._runtime
    celery_wiring.use_runtime(rt)
    try:
        for name, args in broker.sent:  # what a worker does with the message: the named task
            celery_wiring.app.tasks[name].apply(args=args, throw=True)
    finally:
        celery_wiring.use_runtime(previous)
    assert doc.status == "queued"  # as the uploader is told
    shown = library.show_document(rt.sessions, "dealer-a", doc.id)
    assert (shown.status, shown.error, shown.chunk_count) == ("ready", None, 1)
    hits = library.search(rt.sessions, "dealer-a", "When is the workshop open on Saturday?",
                          Audience(), limit=5)
    assert [h.document_id for h in hits] == [doc.id]
    hit = hits[0]
    assert (hit.kind, hit.title, hit.folder, hit.heading) == (
        "knowledge", "hours.md", "service", "Service › Opening hours")
    assert "Saturday 9-13" in hit.snippet and 0 < hit.score <= 1


def test_every_supported_format_becomes_searchable(sessions, inline):
    files = {
        "hours.md": HOURS,
        "policy.txt": b"Returns are accepted within 14 days.",
        "page.html": b"<html><body><h2>Tyres</h2><p>Winter tyre storage costs 49 EUR.</p></body></html>",
        "prices.csv": b"Model,Price\nGolf,29990\nPolo,19990\n",
        "brochure.pdf": make_pdf([["The new Passat Variant arrives in March."]]),
        "warranty.docx": make_docx("Warranty", ["Paint warranty lasts twelve years."]),
    }
    ids = {name: upload(sessions, inline, name, content).id for name, content in files.items()}
    assert {o.status for o in inline.outcomes} == {"ready"}
    for query, name in [("workshop saturday", "hours.md"), ("returns", "policy.txt"),
                        ("tyre storage", "page.html"), ("Polo price", "prices.csv"),
                        ("Passat Variant", "brochure.pdf"), ("paint warranty", "warranty.docx")]:
        assert found(sessions, query)[0] == ids[name], query


def test_a_corrupt_pdf_fails_with_the_reason_and_is_never_found(sessions, inline):
    doc = upload(sessions, inline, "prices.pdf", b"%PDF-1.7\n workshop Saturday garbage")
    shown = library.show_document(sessions, "dealer-a", doc.id)
    assert shown.status == "failed" and "PDF could not be read" in shown.error
    assert found(sessions, "workshop Saturday") == []
    assert [d.id for d in library.list_documents(sessions, "dealer-a", status="failed")] == [doc.id]


def test_re_upload_replaces_the_content_keeps_id_and_audience(sessions, inline):
    first = upload(sessions, inline, "hours.md", HOURS, folder="service",
                   segmentation={"segments": [{"groupId": "tier", "itemId": "fleet"}]})
    fleet = Audience(segments=frozenset({Segment("tier", "fleet")}))
    again = library.upload_document(sessions, inline, "dealer-a", folder="/service/",
                                    filename="hours.md", content=b"We now open on Sunday too.")
    assert again.replaced and again.document.id == first.id
    assert found(sessions, "Saturday workshop", audience=fleet) == []
    assert found(sessions, "Sunday", audience=fleet) == [first.id]
    assert found(sessions, "Sunday") == []  # still only for its audience
    assert len(library.list_documents(sessions, "dealer-a")) == 1


def test_a_re_upload_during_processing_wins_over_the_older_content(sessions):
    queue = Recorder()
    doc = upload(sessions, queue, "hours.md", HOURS)
    from worker.store import kb_leases

    with sessions.begin() as session:  # a worker took version 1 …
        claim = kb_leases.claim_document(session, "dealer-a", doc.id, "worker-1", 600)
    upload(sessions, queue, "hours.md", b"Closed for renovation in August.")  # … then this came
    with sessions.begin() as session:
        from worker.text.chunking import chunk_text

        kept = kb_leases.finish_ready(session, "dealer-a", doc.id, "worker-1",
                                         claim.content_version, chunk_text(HOURS.decode()))
    assert not kept
    assert process_document(sessions, "dealer-a", doc.id, owner="worker-2",
                            lease_seconds=600).status == "ready"
    assert found(sessions, "renovation August") == [doc.id]
    assert found(sessions, "Saturday workshop") == []


def test_rename_and_move_keep_the_id_and_refuse_taken_names(sessions, inline):
    doc = upload(sessions, inline, "hours.md", HOURS)
    other = upload(sessions, inline, "vip.md", VIP, folder="fleet")
    renamed = library.rename_document(sessions, "dealer-a", doc.id, "opening-hours.md")
    moved = library.move_document(sessions, "dealer-a", doc.id, "service/2026")
    assert renamed.id == moved.id == doc.id and moved.path == "service/2026/opening-hours.md"
    hit = library.search(sessions, "dealer-a", "Saturday", Audience(), 1)[0]
    assert (hit.document_id, hit.title, hit.folder) == (doc.id, "opening-hours.md", "service/2026")
    with pytest.raises(Conflict):
        library.move_document(sessions, "dealer-a", other.id, "service/2026", "opening-hours.md")
    with pytest.raises(NotFound):
        library.rename_document(sessions, "dealer-a", "01NOSUCHDOCUMENT0000000000", "x.md")
    assert folders.list_folders(sessions, "dealer-a") == ["fleet", "service", "service/2026"]


def test_folders_rename_and_recursive_delete(sessions, inline):
    root = upload(sessions, inline, "hours.md", HOURS)
    deep = upload(sessions, inline, "vip.md", VIP, folder="fleet/2026/q1")
    side = upload(sessions, inline, "other.md", b"Fleet newsletter archive", folder="fleet-news")
    folders.create_folder(sessions, "dealer-a", "fleet/empty")
    with pytest.raises(Conflict):
        folders.create_folder(sessions, "dealer-a", "fleet/empty")

    assert folders.rename_folder(sessions, "dealer-a", "fleet", "customers/fleet") == "customers/fleet"
    assert library.show_document(sessions, "dealer-a", deep.id).path == "customers/fleet/2026/q1/vip.md"
    tree = folders.folder_tree(sessions, "dealer-a")
    assert [f.path for f in tree.folders] == ["customers", "fleet-news"]
    assert tree.documents == 1

    queue = Recorder()
    assert folders.delete_folder(sessions, queue, "dealer-a", "customers") == 1
    assert queue.purged == ["dealer-a"]
    assert found(sessions, "courtesy car") == []  # hidden at once, before the purge ran
    with pytest.raises(NotFound):
        library.show_document(sessions, "dealer-a", deep.id)
    inline.purge("dealer-a")
    with sessions() as session:
        assert session.get(KbDocument, deep.id) is None
    assert folders.list_folders(sessions, "dealer-a") == ["fleet-news"]
    assert {d.id for d in library.list_documents(sessions, "dealer-a")} == {root.id, side.id}
    with pytest.raises(NotFound):
        folders.delete_folder(sessions, queue, "dealer-a", "customers")


def test_delete_is_immediate_for_readers_and_frees_the_name(sessions, inline):
    doc = upload(sessions, inline, "hours.md", HOURS)
    queue = Recorder()
    library.delete_document(sessions, queue, "dealer-a", doc.id)
    assert found(sessions, "Saturday") == [] and library.list_documents(sessions, "dealer-a") == []
    again = upload(sessions, inline, "hours.md", HOURS)  # before the purge ran
    assert again.id != doc.id and found(sessions, "Saturday") == [again.id]
    with pytest.raises(NotFound):
        library.delete_document(sessions, queue, "dealer-a", doc.id)


def test_list_filters_by_folder_name_and_status(sessions, inline):
    upload(sessions, inline, "hours.md", HOURS, folder="service")
    upload(sessions, inline, "Price_List.csv", b"Model,Price\nGolf,1\n", folder="service/prices")
    upload(sessions, inline, "vip.md", VIP)

    def names(**kw):  # noqa: ANN003, ANN202
        return [d.filename for d in library.list_documents(sessions, "dealer-a", **kw)]

    assert names() == ["vip.md", "hours.md", "Price_List.csv"]
    assert names(folder="service") == ["hours.md"]
    assert names(folder="service", recursive=True) == ["hours.md", "Price_List.csv"]
    assert names(folder="/") == ["vip.md"]
    assert names(name_contains="price_") == ["Price_List.csv"]
    assert names(name_contains="%") == []
    with pytest.raises(NotFound):
        names(folder="nope")


def test_a_document_for_one_audience_never_reaches_a_lead_outside_it(sessions, inline):
    everyone = upload(sessions, inline, "hours.md", HOURS)
    fleet = upload(sessions, inline, "vip.md", VIP,
                   segmentation={"segments": [{"groupId": "tier", "itemId": "fleet"}]})
    personal = upload(sessions, inline, "offer.md", b"Your personal workshop offer: 20% off.",
                      segmentation=Segmentation.of(user_ids=["u-7"]))
    query = "workshop courtesy car offer Saturday"
    outsiders = [
        Audience(),
        Audience(user_id="u-8"),
        Audience(segments=frozenset({Segment("tier", "private")})),
        Audience(segments=frozenset({Segment("fleet", "tier")})),
        Audience.from_metadata({"userId": "u-70", "segments": [{"groupId": "tier"}]}),
    ]
    for audience in outsiders:
        assert set(found(sessions, query, audience=audience)) == {everyone.id}, audience
    fleet_lead = Audience.from_metadata({"segments": [{"groupId": "tier", "itemId": "fleet"}]})
    assert set(found(sessions, query, audience=fleet_lead)) == {everyone.id, fleet.id}
    user_lead = Audience.from_metadata({"userId": "u-7"})
    assert set(found(sessions, query, audience=user_lead)) == {everyone.id, personal.id}
    both = Audience.from_metadata({"userId": "u-7", "segments": [{"groupId": "tier", "itemId": "fleet"}]})
    assert set(found(sessions, query, audience=both)) == {everyone.id, fleet.id, personal.id}
    assert {d.id for d in library.visible_documents(sessions, "dealer-a", Audience())} == {everyone.id}

    # Replacing segmentation is wholesale: the fleet tag is gone, only private leads see it now.
    library.replace_segmentation(sessions, "dealer-a", fleet.id,
                                 {"segments": [{"groupId": "tier", "itemId": "private"}]})
    assert fleet.id not in found(sessions, query, audience=fleet_lead)
    assert fleet.id in found(sessions, query, audience=Audience(segments=frozenset({Segment("tier", "private")})))
    library.replace_segmentation(sessions, "dealer-a", fleet.id, Segmentation())
    assert fleet.id in found(sessions, query)  # no segmentation: everyone
    count = library.audience_count(sessions, "dealer-a", personal.id)
    assert (count.everyone, count.segments, count.user_ids) == (False, 0, 1)


def test_identical_text_in_two_tenants_is_only_ever_found_by_its_own(sessions, inline):
    seg = {"segments": [{"groupId": "tier", "itemId": "fleet"}], "userIds": ["u-1"]}
    a = upload(sessions, inline, "hours.md", HOURS, client="dealer-a", folder="svc")
    b = upload(sessions, inline, "hours.md", HOURS, client="dealer-b", folder="svc")
    a_vip = upload(sessions, inline, "vip.md", VIP, client="dealer-a", segmentation=seg)
    b_vip = upload(sessions, inline, "vip.md", VIP, client="dealer-b", segmentation=seg)
    lead = Audience.from_metadata({"userId": "u-1", "segments": seg["segments"]})
    assert set(found(sessions, "workshop Saturday courtesy car", "dealer-a", lead)) == {a.id, a_vip.id}
    assert set(found(sessions, "workshop Saturday courtesy car", "dealer-b", lead)) == {b.id, b_vip.id}
    assert found(sessions, "workshop Saturday", "dealer-c") == []
    for other_tenants_doc in (b.id, b_vip.id):  # ids of another tenant are as good as unknown
        with pytest.raises(NotFound):
            library.show_document(sessions, "dealer-a", other_tenants_doc)
        with pytest.raises(NotFound):
            library.replace_segmentation(sessions, "dealer-a", other_tenants_doc, Segmentation())
        with pytest.raises(NotFound):
            library.delete_document(sessions, Recorder(), "dealer-a", other_tenants_doc)
    folders.delete_folder(sessions, Recorder(), "dealer-a", "svc")
    assert found(sessions, "workshop Saturday", "dealer-b") == [b.id]
    assert {d.id for d in library.visible_documents(sessions, "dealer-b", Audience())} == {b.id}


def test_a_stuck_document_is_picked_up_again_and_given_up_on_after_the_attempts(sessions):
    queue = Recorder()
    crashed = upload(sessions, queue, "hours.md", HOURS)
    lost = upload(sessions, queue, "vip.md", VIP)
    from worker.store import kb_leases

    with sessions.begin() as session:  # a worker took it and died; its lease ran out
        kb_leases.claim_document(session, "dealer-a", crashed.id, "dead-worker", 600)
        session.execute(update(KbDocument).where(KbDocument.id == crashed.id).values(
            lease_until=text("now() - interval '1 second'")))
        # … and this one's task was lost with Redis a while ago
        session.execute(update(KbDocument).where(KbDocument.id == lost.id).values(
            updated_at=text("now() - interval '1 hour'")))
    inline = InlineQueue(sessions, outcomes=[])
    assert sweep_documents(sessions, inline, lease_seconds=600, max_attempts=3) == 2
    assert {library.show_document(sessions, "dealer-a", d.id).status for d in (crashed, lost)} == {"ready"}
    assert sweep_documents(sessions, inline, lease_seconds=600, max_attempts=3) == 0

    poison = upload(sessions, queue, "poison.md", HOURS)
    with sessions.begin() as session:
        session.execute(update(KbDocument).where(KbDocument.id == poison.id).values(
            status="processing", attempts=3, lease_owner="dead",
            lease_until=text("now() - interval '1 second'")))
    sweep_documents(sessions, inline, lease_seconds=600, max_attempts=3)
    shown = library.show_document(sessions, "dealer-a", poison.id)
    assert shown.status == "failed" and "did not finish after 3 attempts" in shown.error


def test_uploads_over_50_mb_are_refused_and_nothing_is_stored(sessions, inline):
    limit = Settings().kb_max_upload_bytes
    assert limit == 50 * 1024 * 1024
    with pytest.raises(TooLarge, match="limit"):
        upload(sessions, inline, "huge.txt", b"x" * (limit + 1), max_bytes=limit)
    assert library.list_documents(sessions, "dealer-a") == []


def test_upload_and_segmentation_are_one_transaction(sessions, inline):
    with pytest.raises(InvalidInput):
        upload(sessions, inline, "vip.md", VIP, folder="fleet",
               segmentation={"segments": [{"groupId": "tier"}]})
    assert library.list_documents(sessions, "dealer-a") == []
    assert folders.list_folders(sessions, "dealer-a") == []
    with pytest.raises(NotFound, match="not registered"):
        upload(sessions, inline, "vip.md", VIP, client="nobody")

    a = upload(sessions, inline, "a.md", HOURS, segmentation={"userIds": ["u-1"]})
    b = upload(sessions, inline, "b.md", VIP)
    with pytest.raises(NotFound):  # a batch with an unknown document changes nothing
        library.replace_segmentations(sessions, "dealer-a", {
            a.id: {}, "01NOSUCHDOCUMENT0000000000": {}})
    assert library.show_document(sessions, "dealer-a", a.id).segmentation.user_ids == {"u-1"}
    views = library.replace_segmentations(sessions, "dealer-a", {
        a.id: {}, b.id: {"userIds": ["u-2"]}})
    assert [v.segmentation.is_everyone for v in views] == [True, False]
