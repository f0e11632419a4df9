"""Operators: health at a glance, Prometheus metrics of what happened."""

from __future__ import annotations

from worker.health import beat_heart


def test_health_is_200_only_when_every_check_passes(api):
    http = api.client_with_key("alpha", {"name": "Ava"})
    no_worker = http.get("/api/agent/health")
    assert no_worker.status_code == 503
    checks = no_worker.json()["checks"]
    assert checks["workers"]["ok"] is False
    assert all(checks[c]["ok"] for c in ("database", "redis", "backlog", "model", "config"))

    beat_heart(api.rt.redis, api.rt.settings.redis_namespace, "worker-1@test")
    healthy = http.get("/api/agent/health")
    assert healthy.status_code == 200, healthy.text
    assert healthy.json()["checks"]["workers"]["alive"] == ["worker-1@test"]
    assert healthy.json()["checks"]["backlog"]["streamLag"] == {
        api.rt.settings.inbound_chat_stream: 0, api.rt.settings.inbound_email_stream: 0}


def test_health_names_a_client_without_active_config_and_an_open_breaker(api):
    beat_heart(api.rt.redis, api.rt.settings.redis_namespace, "worker-1@test")
    http = api.client_with_key("beta")  # registered, no config
    response = http.get("/api/agent/health")
    assert response.status_code == 503
    assert response.json()["checks"]["config"]["ok"] is False

    ns = api.rt.settings.redis_namespace
    model = api.rt.settings.llm_model
    api.rt.redis.set(f"{ns}:breaker:{model}:failures", 1000)
    api.rt.redis.set(f"{ns}:breaker:{model}:open_until", 2e10)
    admin = api.admin()  # deployment-wide: no client, so no config check
    response = admin.get("/api/agent/health")
    assert response.status_code == 503
    assert response.json()["checks"]["model"]["breaker"] == "open"
    assert "config" not in response.json()["checks"]


def test_stream_lag_shows_entries_nobody_read_yet(api):
    beat_heart(api.rt.redis, api.rt.settings.redis_namespace, "w")
    stream = api.rt.settings.inbound_chat_stream
    api.rt.redis.xgroup_create(stream, api.rt.settings.consumer_group, id="$", mkstream=True)
    for i in range(3):
        api.rt.redis.xadd(stream, {"payload": b"{}"})
    body = api.admin().get("/api/agent/health").json()
    assert body["checks"]["backlog"]["streamLag"][stream] == 3


def test_metrics_count_drafts_requests_and_cost(api):
    http = api.client_with_key("alpha", {"name": "Ava"})
    assert http.post("/api/agent/reply", json={"eventId": "m-1", "message": "Hi"}
                     ).status_code == 200
    http.get("/api/agent/config/active")
    assert api.server.client().get("/metrics").status_code == 401  # no key, no metrics
    assert http.get("/metrics").status_code == 401  # a client key is not enough
    text = api.admin().get("/metrics").text
    assert 'agent_drafts_total{outcome="drafted"}' in text
    assert 'agent_tokens_total{client_id="alpha",kind="prompt"}' in text
    assert 'agent_model_latency_seconds_bucket{le="0.05",model="openai/primary",result="ok"}' \
        in text
    assert ('agent_http_requests_total{method="GET",route="/api/agent/config/active",'
            'status="200"}') in text
    assert f'agent_stream_lag{{stream="{api.rt.settings.inbound_chat_stream}"}}' in text


def test_a_database_outage_is_a_503_with_retry_after_not_a_crash(make_runtime):
    from tests.api.conftest import ApiServer

    rt = make_runtime(database_url="postgresql+psycopg://postgres@127.0.0.1:1/gone")
    server = ApiServer(rt).start()
    try:
        response = server.client("ar_some-key").get("/api/agent/config/active")
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        # Without the database no key can be checked: health is a 503 as well.
        assert server.client("ar_some-key").get("/api/agent/health").status_code == 503
    finally:
        server.stop()
