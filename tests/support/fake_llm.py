"""A small OpenAI-compatible chat completions server for tests and benchmarks.

Behaviour is chosen by the model name (what follows the `openai/` prefix), so parallel tests
never share state:

  anything else     a valid JSON draft after --latency seconds
  ratelimit…        429            error500…   500          badrequest…  400
  timeout…          never answers in time      garbage…     200 with text that is not JSON
  slow-<ms>…        a valid draft after <ms> milliseconds

`POST /_script {"model": m, "responses": ["429", "500", "timeout", "garbage", "ok", …]}` queues
one-off behaviours for model m ("json:<text>" answers <text> as the model's content); `GET /_stats` counts requests per model; `GET /_last?model=m`
returns the last request body for model m (what the prompt really was);
`GET /_max_in_flight?model=m` the most requests for m it was answering at once.
Run alone: python -m tests.support.fake_llm --port 8099 --latency 0.5, then
LLM_API_BASE=http://127.0.0.1:8099/v1 LLM_MODEL=openai/fake LLM_API_KEY=sk-fake (README).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import threading
import time
from collections import Counter, defaultdict, deque

from aiohttp import web

_NAME = re.compile(r"You are (.+?), writing")
_LEAD = re.compile(r'<lead_message id="(\w+)">\n(.*?)\n</lead_message id="\1">', re.S)
QUICK_REPLIES = ["Book a visit", "Call me back", "Send details", "See prices", "Something else"]


def _draft_for(messages: list[dict]) -> dict:
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    name = (_NAME.search(system) or [None, "the team"])[1]
    found = _LEAD.search(user)
    lead = (found.group(2) if found else user).strip().replace("\n", " ")
    return {
        "reply": f"Hello, {name} here. Thanks for writing: \"{lead[:80]}\". We will help you.",
        "quickReplies": QUICK_REPLIES,  # five: the worker must keep four
        "confidence": 0.9,
    }


_SYNONYMS = {"car", "vehicle", "automobile", "suv"}


def fake_embedding(text: str, dims: int = 64) -> list[float]:
    import zlib

    vector = [0.0] * (dims + 1)
    for word in re.findall(r"\w+", text.lower()):
        if word in _SYNONYMS:
            vector[dims] += 1.0
        else:
            vector[zlib.crc32(word.encode()) % dims] += 1.0
    return vector


class FakeLLM:
    def __init__(self, latency: float = 0.0, fail_rate: float = 0.0, seed: int = 7):
        self.latency = latency
        self.fail_rate = fail_rate
        self.scripts: dict[str, deque[str]] = defaultdict(deque)
        self.stats: Counter[str] = Counter()
        self.last_request: dict[str, dict] = {}
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self._random = random.Random(seed)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/chat/completions", self.completions)
        app.router.add_post("/v1/chat/completions", self.completions)
        app.router.add_post("/embeddings", self.embeddings)
        app.router.add_post("/v1/embeddings", self.embeddings)
        app.router.add_post("/_script", self.script)
        app.router.add_get("/_stats", self.get_stats)
        app.router.add_get("/_last", self.get_last)
        app.router.add_get("/_max_in_flight", self.get_max_in_flight)
        app.router.add_get("/health", lambda _r: web.json_response({"ok": True}))
        return app

    async def embeddings(self, request: web.Request) -> web.Response:
        """Deterministic vectors: words hashed into 64 buckets, plus a shared "vehicle" bucket
        for a few synonyms, so tests can tell meaning from spelling."""
        body = await request.json()
        model = body.get("model", "")
        self.stats[model] += 1
        if self._behaviour(model) == "500":
            return web.json_response({"error": {"message": "boom"}}, status=500)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": fake_embedding(t)}
                for i, t in enumerate(texts)]
        return web.json_response({"object": "list", "data": data, "model": model,
                                  "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    async def script(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.scripts[body["model"]].extend(body["responses"])
        return web.json_response({"queued": len(self.scripts[body["model"]])})

    async def get_stats(self, _request: web.Request) -> web.Response:
        return web.json_response(dict(self.stats))

    async def get_max_in_flight(self, request: web.Request) -> web.Response:
        return web.json_response({"max": self.max_in_flight[request.query["model"]]})

    async def get_last(self, request: web.Request) -> web.Response:
        return web.json_response(self.last_request.get(request.query["model"], {}))

    def _behaviour(self, model: str) -> str:
        if self.scripts[model]:
            return self.scripts[model].popleft()
        for prefix, behaviour in (
            ("ratelimit", "429"), ("error500", "500"), ("badrequest", "400"),
            ("timeout", "timeout"), ("garbage", "garbage"),
        ):
            if model.startswith(prefix):
                return behaviour
        if self.fail_rate and self._random.random() < self.fail_rate:
            return self._random.choice(["429", "500", "timeout", "garbage"])
        return "ok"

    async def completions(self, request: web.Request) -> web.Response:
        body = await request.json()
        model = body.get("model", "")
        self.in_flight[model] += 1
        self.max_in_flight[model] = max(self.max_in_flight[model], self.in_flight[model])
        try:
            return await self._complete(body, model)
        finally:
            self.in_flight[model] -= 1

    async def _complete(self, body: dict, model: str) -> web.Response:
        self.stats[model] += 1
        self.last_request[model] = body
        behaviour = self._behaviour(model)
        if behaviour in ("429", "500", "400"):
            status = int(behaviour)
            return web.json_response(
                {"error": {"message": f"fake {status}", "type": "fake", "code": status}},
                status=status,
            )
        if behaviour == "timeout":
            await asyncio.sleep(3600)
        delay = self.latency
        if model.startswith("slow-"):
            delay = int(re.match(r"slow-(\d+)", model).group(1)) / 1000
        if delay:
            await asyncio.sleep(delay)
        if behaviour.startswith("json:"):  # a scripted model answer, as it is
            content = behaviour[len("json:"):]
        elif behaviour == "garbage":
            content = "Sure! Here is my reply, not JSON."
        else:
            content = json.dumps(_draft_for(body.get("messages", [])))
        prompt_chars = sum(len(m.get("content") or "") for m in body.get("messages", []))
        return web.json_response(
            {
                "id": f"chatcmpl-{time.time_ns()}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_chars // 4,
                    "completion_tokens": len(content) // 4,
                    "total_tokens": prompt_chars // 4 + len(content) // 4,
                },
            }
        )


class RunningServer:
    """The fake server on its own event loop thread; `url` is its OpenAI-compatible base."""

    def __init__(self, fake: FakeLLM, port: int = 0):
        self.fake = fake
        self._port = port
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        # In-flight "timeout" requests sleep for an hour: do not wait for them at shutdown.
        runner = self._runner = web.AppRunner(
            self.fake.app(), access_log=None, shutdown_timeout=0.5
        )
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", self._port, backlog=2048)
        self._loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
        self.url = f"http://127.0.0.1:{port}/v1"
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> RunningServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        cleanup = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        try:
            cleanup.result(5)
        except Exception:  # noqa: BLE001 - the thread is a daemon; it goes with the process
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    parser.add_argument("--fail-rate", type=float, default=0.0)
    args = parser.parse_args()
    print(f"fake model: LLM_API_BASE=http://127.0.0.1:{args.port}/v1 "  # noqa: T201
          "LLM_MODEL=openai/<any name> LLM_API_KEY=<anything>", flush=True)
    web.run_app(
        FakeLLM(args.latency, args.fail_rate).app(),
        host="127.0.0.1", port=args.port, access_log=None, backlog=4096,
    )


if __name__ == "__main__":
    main()
