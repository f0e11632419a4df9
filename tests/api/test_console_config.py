"""The console's agent config page over HTTP: an admin saves a new version (the API serves
it at once), a refused value is named beside its field and nothing is saved, a reviewer who
is not an admin cannot change it, and the history shows each version's changes."""

from __future__ import annotations

import re

from tests.api.console_support import add_reviewer, csrf_of, sign_in
from worker.console.config_page import form_values


def _form(page: str, **changes: str) -> dict[str, str]:
    """The config form as the page filled it, with `changes`."""
    http_values = {}
    for name, value in re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"', page):
        http_values[name] = value
    for name, value in re.findall(r'<textarea id="f-(\w+)"[^>]*>([^<]*)</textarea>', page, re.S):
        http_values[name] = value
    import html

    return {"csrf": csrf_of(page), **{k: html.unescape(v) for k, v in http_values.items()},
            **changes}


def test_an_admin_saves_a_new_version_and_sees_its_diff(api):
    secret = add_reviewer(api.rt, "alpha", "ann", {"name": "Ava", "tonality": "warm"},
                          admin=True)
    http = sign_in(api.server.url, "alpha", "ann", secret)
    page = http.get("/config")
    assert page.status_code == 200 and "version 1" in page.text
    saved = http.post("/config", data=_form(page.text, tonality="warm and brief",
                                            dontsList="Never quote a price\nNo slang"))
    assert saved.status_code == 303 and saved.headers["location"].startswith("/config?saved=2")
    active = api.client_with_key("alpha").get("/api/agent/config/active").json()
    assert active["version"] == 2 and active["tonality"] == "warm and brief"
    assert active["dontsList"] == ["Never quote a price", "No slang"]
    assert active["name"] == "Ava"  # untouched fields kept
    shown = http.get(saved.headers["location"]).text
    version_2 = shown[shown.index('id="v2"'):shown.index('id="v1"')]
    inserted = " ".join(re.findall(r"<ins>([^<]*)</ins>", version_2))
    assert "brief" in inserted and "Never" in inserted and "slang" in inserted
    changed = re.findall(r"<dt>([^<]*)</dt>", version_2)
    assert changed == ["Tone", "Don&#39;t"]  # escaped as HTML
    compared = http.get("/config", params={"a": 2, "b": 1}).text
    assert "From version 2 to version 1" in compared and "<del>" in compared


def test_a_refused_value_is_named_beside_its_field_and_nothing_is_saved(api):
    secret = add_reviewer(api.rt, "alpha", "ann", {"name": "Ava"}, admin=True)
    http = sign_in(api.server.url, "alpha", "ann", secret)
    page = http.get("/config").text
    refused = http.post("/config", data=_form(page, minConfidence="2",
                                              linkAllowlist="example.com\nnot a domain",
                                              rateLimitPerMinute="lots", name=""))
    assert refused.status_code == 422
    for key, words in (("minConfidence", "less than or equal to 1"),
                       ("linkAllowlist", "not a domain"),
                       ("rateLimitPerMinute", "valid integer"),
                       ("name", "at least 1 character")):
        found = re.search(rf'id="e-{key}">([^<]*)<', refused.text)
        assert found and words in found.group(1), (key, found and found.group(1))
    assert 'aria-invalid="true"' in refused.text
    assert "not a domain" in refused.text  # what was typed is kept in the form
    history = api.client_with_key("alpha").get("/api/agent/config/history").json()
    assert [v["version"] for v in history] == [1]


def test_a_reviewer_who_is_not_an_admin_may_read_but_not_change_the_config(api):
    secret = add_reviewer(api.rt, "alpha", "kim", {"name": "Ava"})
    http = sign_in(api.server.url, "alpha", "kim", secret)
    page = http.get("/config")
    assert page.status_code == 200 and "Only an admin" in page.text
    refused = http.post("/config", data=_form(page.text, name="Mallory"))
    assert refused.status_code == 403
    active = api.client_with_key("alpha").get("/api/agent/config/active").json()
    assert active["version"] == 1 and active["name"] == "Ava"


def test_form_values_round_trip_through_the_schema():
    from schema.agent_config import AgentConfigFields
    from worker.console.config_page import parse_form

    config = AgentConfigFields(name="Ava", dosList=("a", "b"), dailyCostBudgetUsd=1.5)
    again = AgentConfigFields.model_validate(parse_form(form_values(config.as_contract_json())))
    assert again == config
