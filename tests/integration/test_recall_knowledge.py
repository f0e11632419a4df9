"""A draft is shown the client's own documents — only those meant for its lead — and its
memoryRefs name them."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.integration.conftest import outbound, set_config
from tests.integration.test_drafting import _draft
from worker.knowledge import library
from worker.audience import Segment, Segmentation
from worker.knowledge.processing import InlineQueue

pytestmark = pytest.mark.integration

HOURS = b"# Service\n\n## Opening hours\n\nOur workshop is open Monday to Friday 8-18.\n"
FLEET = (b"# Fleet customers\n\nFleet customers get a free courtesy car for every workshop "
         b"visit.\n")


def _upload(rt, client: str, name: str, content: bytes, segmentation=None) -> str:  # noqa: ANN001
    queue = InlineQueue(rt.sessions, outcomes=[])
    return library.upload_document(rt.sessions, queue, client, folder="", filename=name,
                                   content=content, segmentation=segmentation).document.id


def _prompt(fake_llm, model: str) -> str:  # noqa: ANN001
    body = httpx.get(fake_llm.url.rsplit("/v1", 1)[0] + "/_last", params={"model": model}).json()
    return "\n".join(m["content"] for m in body["messages"])


def test_a_draft_recalls_documents_for_its_audience_only(make_runtime, fake_llm):
    rt = make_runtime(llm_model="openai/kb-recall")
    set_config(rt, "dealer-a")
    set_config(rt, "dealer-b")
    hours = _upload(rt, "dealer-a", "hours.md", HOURS)
    fleet = _upload(rt, "dealer-a", "fleet.md", FLEET,
                    Segmentation.of(segments=[Segment("customer-type", "fleet")]))
    # The same fleet text in another tenant, for everyone: never dealer-a's to recall.
    _upload(rt, "dealer-b", "fleet.md", FLEET)

    _draft(rt, "dealer-a", {"eventId": "fleet-lead", "leadId": "L1",
                            "message": "Do fleet customers get a courtesy car at the workshop?",
                            "metadata": {"segments": [{"groupId": "customer-type",
                                                       "itemId": "fleet"}]}})
    fleet_prompt = _prompt(fake_llm, "kb-recall")
    _draft(rt, "dealer-a", {"eventId": "walk-in", "leadId": "L2",
                            "message": "Do fleet customers get a courtesy car at the workshop?"})
    walk_in_prompt = _prompt(fake_llm, "kb-recall")

    refs = {d["eventId"]: d["memoryRefs"] for d in outbound(rt)}
    fleet_docs = {r["id"] for r in refs["fleet-lead"] if r["kind"] == "knowledge"}
    walk_in_docs = {r["id"] for r in refs["walk-in"] if r["kind"] == "knowledge"}
    assert fleet in fleet_docs and "free courtesy car" in fleet_prompt
    assert fleet not in walk_in_docs and "free courtesy car" not in walk_in_prompt
    assert walk_in_docs <= {hours}  # untagged documents are for everyone


def test_memory_search_recalls_documents_for_the_audience_given(make_runtime):
    from typer.testing import CliRunner

    from worker.cli.main import app

    rt = make_runtime()
    set_config(rt, "dealer-a")
    fleet = _upload(rt, "dealer-a", "fleet.md", FLEET,
                    Segmentation.of(segments=[Segment("customer-type", "fleet")]))
    env = {"DATABASE_URL": rt.settings.database_url, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    query = ["memory", "search", "dealer-a", "--query", "courtesy car for fleet customers"]

    def documents(*extra: str) -> set[str]:
        result = CliRunner().invoke(app, [*query, *extra], env=env)
        assert result.exit_code == 0, result.output
        line = json.loads(result.stdout.strip().splitlines()[-1])
        return {r["id"] for r in line["results"] if r["kind"] == "knowledge"}

    assert documents("--segment", "customer-type:fleet") == {fleet}
    assert documents() == set()  # an anonymous lead sees documents for everyone only
    assert CliRunner().invoke(app, [*query, "--segment", "no-colon"], env=env).exit_code == 2
