"""A dealer's admin sets the agent's config over HTTP; the next draft uses it."""

from __future__ import annotations

import time

from worker.store import tenants

CONFIG = {"name": "Ava of Alpha Cars", "personality": "cheerful", "industry": "automotive",
          "dosList": ["Offer a test drive"], "dontsList": ["Never quote prices"]}


def test_put_then_get_active_config_and_history(api):
    http = api.client_with_key("alpha")
    first = http.put("/api/agent/config/active", json=CONFIG)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1 and first.json()["active"] is True

    shown = http.get("/api/agent/config/active").json()
    assert shown["name"] == "Ava of Alpha Cars" and shown["dosList"] == ["Offer a test drive"]
    assert shown["clientId"] == "alpha" and shown["configId"] == first.json()["configId"]

    # What GET returns can be sent back as it is.
    second = http.put("/api/agent/config/active", json={**shown, "tonality": "warm"})
    assert second.status_code == 200, second.text
    assert second.json()["version"] == 2
    assert http.get("/api/agent/config/active").json()["tonality"] == "warm"

    history = http.get("/api/agent/config/history").json()
    assert [(h["version"], h["active"]) for h in history] == [(2, True), (1, False)]
    assert history[1]["config"]["tonality"] == "polite and neutral"


def test_a_client_without_config_gets_the_defaults_as_version_0(api):
    shown = api.client_with_key("beta").get("/api/agent/config/active").json()
    assert shown["version"] == 0 and shown["configId"] is None and shown["active"] is False
    assert shown["name"] == "Assistant"


def test_invalid_configs_are_refused_field_by_field_and_change_nothing(api):
    http = api.client_with_key("alpha", CONFIG)
    for bad, field in (({"name": ""}, "name"), ({"dosList": "not a list"}, "dosList"),
                       ({"colour": "red"}, "colour"),
                       ({"rateLimitPerMinute": -1}, "rateLimitPerMinute"),
                       ({"dosList": ["fine", "not\u0000fine"]}, "NUL")):
        response = http.put("/api/agent/config/active", json=bad)
        assert response.status_code == 422, bad
        assert field in response.text
    assert http.put("/api/agent/config/active", content=b"{oops",
                    headers={"content-type": "application/json"}).status_code == 422
    assert http.get("/api/agent/config/active").json()["version"] == 1


def test_a_put_reaches_the_cache_of_every_other_process(api, make_runtime):
    """Another process (a worker) caches the config for an hour; the PUT's announcement over
    Redis must drop it there, so its next draft uses the new version."""
    http = api.client_with_key("alpha", CONFIG)
    worker_rt = make_runtime(config_cache_ttl_seconds=3600.0)
    worker_rt.listen()
    assert worker_rt.listener.wait_subscribed(10)
    assert worker_rt.configs.resolve("alpha").version == 1  # cached now

    assert http.put("/api/agent/config/active", json={**CONFIG, "name": "Bea"}).status_code == 200
    deadline = time.monotonic() + 10  # a bound for the test, not the 1 s promise itself
    while worker_rt.configs.resolve("alpha").version != 2:
        assert time.monotonic() < deadline, "the worker kept the old config"
        time.sleep(0.01)
    assert worker_rt.configs.resolve("alpha").fields.name == "Bea"


def test_a_lost_announcement_only_delays_until_the_ttl(api, make_runtime):
    """Without the pub/sub message (e.g. the listener was disconnected), the TTL still ends
    the stale entry."""
    http = api.client_with_key("alpha", CONFIG)
    worker_rt = make_runtime(config_cache_ttl_seconds=0.2)  # no listener at all
    assert worker_rt.configs.resolve("alpha").version == 1
    assert http.put("/api/agent/config/active", json={**CONFIG, "name": "Bea"}).status_code == 200
    deadline = time.monotonic() + 10
    while worker_rt.configs.resolve("alpha").version != 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_load_racing_an_invalidation_is_not_cached(api):
    """A reader that loaded the old config before a change must not cache it after the
    change was announced."""
    api.client_with_key("alpha", CONFIG)
    resolver = api.rt.configs
    resolver.invalidate("alpha")
    original_load = resolver._load

    def slow_load(client_id):  # the change lands while this load is in flight
        loaded = original_load(client_id)
        with api.rt.sessions.begin() as session:
            tenants.activate_new_config(session, client_id, {**CONFIG, "name": "Bea"}, register=True)
        resolver.invalidate(client_id)
        return loaded

    resolver._load = slow_load
    assert resolver.resolve("alpha").version == 1  # the racing reader sees the old one…
    resolver._load = original_load
    assert resolver.resolve("alpha").version == 2  # …but did not cache it
