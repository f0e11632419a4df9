"""The benches that reuse bench/throughput.py's deployment environment (chat_latency.py,
fairness.py) pass only redis_db and extra_env: the environment must not need more."""

import argparse
import importlib
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _throughput():
    # The benches import each other as top-level modules, as they do when run as scripts.
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))
    return importlib.import_module("throughput")


def test_the_other_benches_get_a_deployment_environment_with_a_priced_model():
    tp = _throughput()
    args = argparse.Namespace(redis_db=7, extra_env=["BURST_WINDOW_CHAT_SECONDS=2"])

    env = tp.runtime_env(args, "chatbench_1", 4321)

    assert env["DATABASE_URL"].endswith("/chatbench_1")
    assert env["REDIS_URL"].endswith("/7")
    assert env["LLM_API_BASE"] == "http://127.0.0.1:4321/v1"
    assert env["LLM_MODEL"] == tp.DEFAULT_MODEL
    assert env["BURST_WINDOW_CHAT_SECONDS"] == "2"  # extra_env wins over the bench's default


def test_throughput_passes_its_own_model():
    tp = _throughput()
    args = argparse.Namespace(redis_db=9, extra_env=[])

    assert tp.runtime_env(args, "bench_1", 1, "openai/other")["LLM_MODEL"] == "openai/other"
