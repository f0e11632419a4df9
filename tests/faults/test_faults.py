"""The fault suite: real processes, one fault each, counted by eventId (see harness.py).

    .venv/bin/python -m pytest tests/faults -m faults -s
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.faults.harness import (
    CHAT,
    POISON_MODELS,
    assert_targets,
    log,
    valid_events,
)
from tests.faults.malformed import malformed_kinds, render

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]

N = 1000


def _stored(dep) -> int:  # noqa: ANN001
    return dep.progress()[0]


def _drafts(dep) -> int:  # noqa: ANN001
    return dep.progress()[1]


def test_1_kill9_a_worker_three_times(deploy):  # noqa: ANN001
    dep = deploy("1 kill -9 a worker x3", workers=2, concurrency=25, llm_latency=0.05)
    dep.push(valid_events("k9", N))
    for n, at in enumerate((100, 350, 600)):
        i = n % 2
        dep.wait_for(f"worker{i + 1} ready", lambda: dep.workers_ready([dep.workers[i]]), 120, 0.5)
        dep.wait_for(f"{at} drafts", lambda: _drafts(dep) >= at)
        stored, drafted = dep.progress()
        victim = dep.kill_worker(i, signal.SIGKILL)
        victim.wait(10)
        log(f"kill -9 {victim.name} (pid {victim.pid}) with {stored - drafted} of {stored} "
            "stored messages not drafted yet")
        time.sleep(1.0)  # a supervisor's restart delay
        dep.restart_worker(i)
    fault_end = time.monotonic()
    stats, drain = dep.wait_drained(fault_end)
    row = dep.finish(stats, drain, notes="3 kills, each worker restarted 1 s later")
    assert_targets(row, stats)


def test_2_redis_restart_then_flush(deploy):  # noqa: ANN001
    dep = deploy("2 Redis restart + flush", workers=2, concurrency=25, llm_latency=0.05)
    events = valid_events("rd", N)
    before, burst, after = events[:450], events[450:900], events[900:]

    producer = dep.push_in_background(before, rate=100)
    time.sleep(2.0)
    log("Redis: SHUTDOWN SAVE, 3 s down, restart with its data")
    dep.redis.stop(save=True)
    time.sleep(3.0)
    dep.redis.start()
    producer.join(180)
    assert not producer.errors, producer.errors
    dep.push(burst)
    dep.wait_for("900 events stored", lambda: _stored(dep) >= 900, 120, 0.2)
    stored, drafted = dep.progress()
    # A consumer of the outbound stream reads as it goes; what it has not read when Redis loses
    # its data is lost with it, whatever the runtime does. Pause writers, catch up, then flush.
    client = dep.redis.client(socket_timeout=10)
    client.client_pause(10_000, all=False)
    dep.reader.catch_up(client)
    client.close()
    log(f"Redis: SHUTDOWN NOSAVE with {stored - drafted} of {stored} messages not drafted yet; "
        "restart empty (flushed)")
    dep.redis.stop(save=False)
    time.sleep(3.0)
    dep.redis.start()
    fault_end = time.monotonic()
    dep.push(after)  # producers carry on after the flush
    stats, drain = dep.wait_drained(fault_end)
    row = dep.finish(stats, drain, notes="restart with data at ~200 events, flush after 900; "
                                         "100 more events after the flush")
    assert_targets(row, stats)


def test_3_postgres_down_30s(deploy):  # noqa: ANN001
    dep = deploy("3 Postgres down 30 s", own_postgres=True, workers=2, concurrency=25,
                 llm_latency=0.05)
    producer = dep.push_in_background(valid_events("pg", N), rate=25)  # 40 s of traffic
    time.sleep(8.0)
    stored, drafted = dep.progress()
    log(f"Postgres: pg_ctl stop -m fast ({stored} stored, {drafted} drafted); 30 s down")
    dep.pg.stop()
    time.sleep(30.0)
    dep.pg.start()
    fault_end = time.monotonic()
    log("Postgres: started again")
    producer.join(180)
    assert not producer.errors, producer.errors
    stats, drain = dep.wait_drained(fault_end)
    row = dep.finish(stats, drain, notes="events kept arriving during the outage (25/s)")
    assert_targets(row, stats)


def test_4_model_failing_30_percent_then_healthy(deploy):  # noqa: ANN001
    dep = deploy("4 model fails 30%", workers=2, concurrency=25, llm_latency=0.05)
    dep.llm.start_failing("fault", 0.3)
    started = time.monotonic()
    dep.push(valid_events("llm", N))

    def everything_tried() -> bool:
        try:
            st = dep.measure()
        except Exception:  # noqa: BLE001
            return False
        return st.statuses.get("received", 0) == 0 and sum(st.statuses.values()) >= N

    dep.wait_for("every message tried at least once", everything_tried, 300, 1.0)
    calls = sum(dep.llm.stats().values())
    fault_end = dep.llm.stop_failing("fault")
    log(f"model healthy again after {fault_end - started:.0f}s and {calls} calls")
    stats, drain = dep.wait_drained(fault_end)
    row = dep.finish(stats, drain, notes=f"failing for {fault_end - started:.0f} s, "
                                         f"{calls} model calls")
    assert_targets(row, stats)


def test_5_poison_events_among_good_ones(deploy):  # noqa: ANN001
    dep = deploy("5 poison event", workers=2, concurrency=25, llm_latency=0.05)
    events = valid_events("ok", N)
    poison = {
        kind: (CHAT, {"eventId": f"poison-{kind}", "clientId": "fault-north", "model": model,
                      "message": f"This one always fails ({kind})", "leadId": "poison"})
        for kind, model in POISON_MODELS.items()
    }
    # The poison events go first: every good event is queued behind them.
    items = [*poison.values(), *events]
    kinds = ["poison"] * len(poison) + ["valid"] * len(events)
    dep.push(items, kinds=kinds)
    fault_end = time.monotonic()
    stats, drain = dep.wait_drained(fault_end)
    import psycopg

    with psycopg.connect(dep.pg.dsn) as conn:
        poison_rows = conn.execute(
            "SELECT event_id, status, failure_kind, attempts FROM inbound_messages "
            "WHERE event_id LIKE 'poison-%' ORDER BY 1"
        ).fetchall()
        good_drafted = conn.execute(
            "SELECT count(*) FROM drafts WHERE event_id NOT LIKE 'poison-%' AND NOT degraded"
        ).fetchone()[0]
    log(f"poison events: {poison_rows}; good events drafted by the model: {good_drafted}")
    row = dep.finish(stats, drain, notes=f"{len(poison)} poison events (500/timeout/garbage/429 "
                                         "forever) among 1000 good")
    assert_targets(row, stats)
    assert good_drafted == N, f"only {good_drafted} of {N} good events got a model-written draft"
    assert all(s == "failed" and k == "permanent" for _e, s, k, _a in poison_rows), poison_rows


def test_6_sigterm_every_worker_with_500_in_flight(deploy):  # noqa: ANN001
    dep = deploy("6 SIGTERM all workers", workers=2, concurrency=25, llm_latency=0.05)
    dep.push(valid_events("term", N))

    # 500 in flight: pushed but not drafted yet (stored and queued, or still being ingested).
    dep.wait_for("500 left in flight", lambda: _drafts(dep) >= N - 500, 180, 0.1)
    stored, drafted = dep.progress()
    log(f"SIGTERM to every worker with {N - drafted} events in flight ({stored - drafted} stored "
        f"and not drafted, {N - stored} not ingested yet)")
    stopped = [dep.kill_worker(i, signal.SIGTERM) for i in range(len(dep.workers))]
    t0 = time.monotonic()
    for proc in stopped:
        code = proc.wait(60)
        if code != 0:
            dep.crashes.append(f"{proc.name} exited with {code} on SIGTERM (in 60 s):\n"
                               f"{proc.tail()}")
    log(f"workers stopped in {time.monotonic() - t0:.1f}s; exit codes "
        f"{[p.exit_code for p in stopped]}; restarting them")
    for i in range(len(dep.workers)):
        dep.restart_worker(i)
    fault_end = time.monotonic()
    stats, drain = dep.wait_drained(fault_end)
    row = dep.finish(stats, drain, notes=f"warm shutdown took {fault_end - t0:.1f} s")
    assert_targets(row, stats)


def test_7_two_beats_for_ten_reprocessing_cycles(deploy):  # noqa: ANN001
    every = 3
    dep = deploy("7 two beats x10 cycles", workers=2, concurrency=25, llm_latency=0.05, beats=2,
                 env={"REPROCESS_EVERY_SECONDS": str(every), "OUTBOX_SWEEP_AFTER_SECONDS": "0.5"})
    # Work for the reprocessing: transient model failures, so messages keep coming due.
    dep.llm.start_failing("fault", 0.3, seed=5)
    started = time.monotonic()
    producer = dep.push_in_background(valid_events("beat", N), rate=N / (10 * every - 2))
    time.sleep(10 * every + 0.5)
    producer.join(60)
    assert not producer.errors, producer.errors
    second = dep.beats[1]
    second.stopped_by_us = True
    second.signal(signal.SIGTERM, group=False)
    code = second.wait(30)
    if code != 0:
        dep.crashes.append(f"{second.name} exited with {code} on SIGTERM:\n{second.tail()}")
    fault_end = dep.llm.stop_failing("fault")
    log(f"second beat stopped (exit {code}) after {fault_end - started:.0f}s; model healthy")
    stats, drain = dep.wait_drained(fault_end)
    row = dep.finish(stats, drain, notes=f"both beats every {every} s for 10 cycles, model "
                                         "failing 30% meanwhile, outbox swept after 0.5 s")
    assert_targets(row, stats)


def test_8_a_thousand_malformed_events(deploy):  # noqa: ANN001
    dep = deploy("8 1000 malformed events", workers=2, concurrency=25, llm_latency=0.05)
    kinds = malformed_kinds("fault-north", "fault-south")
    assert len({k for k, *_ in kinds}) >= 50
    plan: list[int] = []
    used = [0] * len(kinds)
    while len(plan) < N:
        for i, (_k, _s, _f, cap) in enumerate(kinds):
            if len(plan) < N and used[i] < cap:
                plan.append(i)
                used[i] += 1
    good = valid_events("canary", 100)
    items, labels = [], []
    for n, i in enumerate(plan):
        kind, stream, fields, _cap = kinds[i]
        items.append((stream, render(fields, f"bad-{n}", "fault-north")))
        labels.append(f"malformed:{kind}")
        if n % 10 == 0:
            items.append(good[n // 10])
            labels.append("valid")
    dep.push(items, kinds=labels, chunk=10)
    fault_end = time.monotonic()
    stats, drain = dep.wait_drained(fault_end)
    import psycopg

    with psycopg.connect(dep.pg.dsn) as conn:
        stored = conn.execute("SELECT count(*) FROM inbound_messages").fetchone()[0]
        reasons = conn.execute("SELECT count(DISTINCT reason) FROM rejected_events").fetchone()[0]
    log(f"{len(kinds)} kinds, {len(plan)} malformed + {len(good)} valid; {stored} messages "
        f"stored; {reasons} distinct rejection reasons")
    row = dep.finish(stats, drain, notes=f"{len(kinds)} kinds + 100 valid canaries; "
                                         f"{stored} stored")
    assert_targets(row, stats)
    assert stored == len(good), f"{stored - len(good)} malformed events were stored for drafting"

