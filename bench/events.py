"""Event latency: from a feed change being fetched to its event on the Redis stream, and to
the new price being served by the API.

Usage: .venv/bin/python bench/events.py [--runs 20]

The real pieces, as in the end-to-end tests: a scratch PostgreSQL database holding
models.dev's models (the bundled snapshot) and snapshot A below, a redis-server of its own
on a free port, one Celery worker (`llmref worker --concurrency 1`), `llmref serve` with
Redis, and a local HTTP server playing the LiteLLM feed. The feed alternates between two
small snapshots derived from the real LiteLLM file of 2026-07-01: A keeps its 25 records
of claude-sonnet-5, gpt-5 and gemini-2.5-pro; B is A with claude-sonnet-5's and gpt-5's
prices halved. Each run: serve the other snapshot, `resyncFeed` through the API, then
measure from the moment the feed server wrote the last byte of the changed payload
("fetched") to

- the first stream entry of the run read by a blocking XREAD (in this process);
- `Query.model` showing claude-sonnet-5's new Anthropic price (polled every 10 ms);
- the cached `Query.comparison` of claude-sonnet-5 and gpt-5 showing the new monthly
  cost (polled every 10 ms; the cache entry is invalidated by the generation bump).

Times are time.monotonic() in this one process. Polling adds up to 10 ms plus one
request's duration to the two "served" figures. Percentiles are nearest-rank: with 20
runs, p99 is the slowest run.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schema.db.base import utcnow
from schema.db.engine import make_engine, make_sessionmaker, session_scope
from schema.events import STREAM, publish_pending
from schema.ingest.offline import import_snapshot_file
from schema.ingest.scheduling import postpone_all
from schema.migrations import upgrade
from tests.e2e.feed_server import FeedServer, read_payload
from tests.e2e.processes import (
    LITELLM_JULY_1,
    WORKER_READY,
    RedisServer,
    create_ops_key,
    postgres_database,
    running,
    start_serve,
    start_worker,
    wait_until_answers,
)

KEPT = re.compile(r"(^|[/.])(claude-sonnet-5|gpt-5|gemini-2\.5-pro)(@default|-v1:0)?$")
CHANGED = re.compile(r"(^|[/.])(claude-sonnet-5|gpt-5)(@default|-v1:0)?$")
POLL_SECONDS = 0.01

MODEL = """{ model(slug: "claude-sonnet-5") { offerings { provider { slug } region
  price { inputPerMTok outputPerMTok } } } }"""
COMPARISON = """{ comparison(models: ["claude-sonnet-5", "gpt-5"]) { ... on Comparison {
  monthlyCosts { model { slug } monthlyUsd } } } }"""


def snapshots() -> tuple[bytes, bytes]:
    """A and B (see the module docstring)."""
    document = json.loads(read_payload(LITELLM_JULY_1), parse_float=Decimal)
    a = {key: record for key, record in document.items() if KEPT.search(key)}
    b = json.loads(json.dumps(a, default=str), parse_float=Decimal)
    for key, record in b.items():
        if CHANGED.search(key):
            for field in ("input_cost_per_token", "output_cost_per_token"):
                if field in record:
                    record[field] = Decimal(record[field]) / 2
    return _encode(a), _encode(b)


def _encode(document: dict[str, Any]) -> bytes:
    """JSON with the decimals written as numbers, as the feed writes them."""
    return json.dumps(document, default=float).encode()


def load_catalog(database_url: str, snapshot_a: bytes, cwd: Path) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)
        path = cwd / "litellm-a.json"
        path.write_bytes(snapshot_a)
        for slug, file in (("models.dev", None), ("litellm", path)):
            outcome = import_snapshot_file(sessions, slug, file)
            assert outcome.status == "SUCCEEDED", outcome
        publish_pending(sessions, bump=lambda ids: None, xadd=lambda messages: None, now=utcnow)
        with session_scope(sessions) as session:
            postpone_all(session, now=utcnow())
    finally:
        engine.dispose()


class Api:
    def __init__(self, base: str, key: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        self.headers = {"Authorization": f"Bearer {key}"}

    def ask(self, query: str) -> dict[str, Any]:
        response = self.client.post("/graphql", json={"query": query}, headers=self.headers)
        body = response.json()
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    def anthropic_price(self) -> tuple[str, str]:
        offerings = self.ask(MODEL)["model"]["offerings"]
        [price] = [
            o["price"]
            for o in offerings
            if o["provider"]["slug"] == "anthropic" and o["region"] is None
        ]
        return price["inputPerMTok"], price["outputPerMTok"]

    def monthly_cost(self) -> str:
        costs = self.ask(COMPARISON)["comparison"]["monthlyCosts"]
        [cost] = [c["monthlyUsd"] for c in costs if c["model"]["slug"] == "claude-sonnet-5"]
        return cost  # type: ignore[no-any-return]

    def resync(self) -> int:
        data = self.ask('mutation { resyncFeed(source: "litellm") { run { id } } }')
        return int(data["resyncFeed"]["run"]["id"])

    def run(self, run_id: int) -> dict[str, Any]:
        query = f'{{ feedRun(id: "{run_id}") {{ status changed }} }}'
        return self.ask(query)["feedRun"]  # type: ignore[no-any-return]


def watch(until: Callable[[], bool], deadline: float) -> Callable[[], float]:
    """Poll ``until`` in a thread; the returned function joins it and gives the
    time.monotonic() when it first held."""
    seen: list[float] = []

    def poll() -> None:
        while time.monotonic() < deadline:
            if until():
                seen.append(time.monotonic())
                return
            time.sleep(POLL_SECONDS)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()

    def result() -> float:
        thread.join()
        if not seen:
            raise TimeoutError("the change was never seen")
        return seen[0]

    return result


def changed_from(read: Callable[[], object], old: object) -> Callable[[], bool]:
    return lambda: read() != old


def first_stream_entry(redis_url: str, after: str, deadline: float) -> Callable[[], float]:
    arrived: list[float] = []

    def read() -> None:
        with redis.Redis.from_url(redis_url) as client:
            while time.monotonic() < deadline:
                if client.xread({STREAM: after}, count=100, block=100):
                    arrived.append(time.monotonic())
                    return

    thread = threading.Thread(target=read, daemon=True)
    thread.start()

    def result() -> float:
        thread.join()
        if not arrived:
            raise TimeoutError("no stream entry")
        return arrived[0]

    return result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    snapshot_a, snapshot_b = snapshots()
    figures: dict[str, list[float]] = {
        "resync -> fetched": [],
        "fetched -> on stream": [],
        "fetched -> price served": [],
        "fetched -> comparison": [],
    }
    with ExitStack() as stack:
        cwd = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="llmref-bench-")))
        database_url = stack.enter_context(postgres_database(prefix="llmref_bench"))
        load_catalog(database_url, snapshot_a, cwd)
        key = create_ops_key(database_url, cwd, name="bench")
        redis_server = RedisServer(cwd)
        redis_server.start()
        stack.callback(redis_server.stop)
        feed = stack.enter_context(FeedServer())
        engine = make_engine(database_url)
        with engine.begin() as connection:
            from sqlalchemy import text

            connection.execute(
                text("UPDATE feed_sources SET url = :url WHERE slug = 'litellm'"),
                {"url": feed.url},
            )
        engine.dispose()
        env = {"LLMREF_DATABASE_URL": database_url, "LLMREF_REDIS_URL": redis_server.url()}
        worker = stack.enter_context(running(start_worker(cwd, env)))
        serve, base = start_serve(cwd, {**env, "LLMREF_LOAD_CATALOG_ON_START": "false"})
        stack.enter_context(running(serve))
        worker.wait_for_log(WORKER_READY)
        wait_until_answers(serve, base)
        api = Api(base, key)

        pollers = (Api(base, key), Api(base, key))
        seen: dict[str, set[object]] = {"A": set(), "B": set()}
        changed: set[int] = set()
        for run in range(args.runs):
            name, body = ("B", snapshot_b) if run % 2 == 0 else ("A", snapshot_a)
            old_price, old_cost = api.anthropic_price(), api.monthly_cost()
            feed.serve(body)
            with redis.Redis.from_url(redis_server.url()) as client:
                last = client.xrevrange(STREAM, count=1)
            after = last[0][0].decode() if last else "0-0"
            deadline = time.monotonic() + 60
            on_stream = first_stream_entry(redis_server.url(), after, deadline)
            price_served = watch(changed_from(pollers[0].anthropic_price, old_price), deadline)
            comparison_served = watch(changed_from(pollers[1].monthly_cost, old_cost), deadline)
            requested = time.monotonic()
            run_id = api.resync()
            [*_, fetch] = feed.wait_for_requests(run + 1, timeout=60)
            assert fetch.finished is not None and fetch.status == 200, fetch
            times = (on_stream(), price_served(), comparison_served())
            while (finished := api.run(run_id))["status"] not in ("SUCCEEDED", "FAILED"):
                time.sleep(0.05)
            assert finished["status"] == "SUCCEEDED", finished
            changed.add(finished["changed"])
            seen[name].add((api.anthropic_price(), api.monthly_cost()))
            figures["resync -> fetched"].append(fetch.finished - requested)
            for label, at in zip(list(figures)[1:], times, strict=True):
                figures[label].append(at - fetch.finished)
            print(
                f"run {run + 1:>2} ({name}): "
                + ", ".join(f"{label} {v[-1] * 1000:.0f} ms" for label, v in figures.items()),
                file=sys.stderr,
            )
        # Each snapshot always served the same (price, monthly cost), and they differ.
        assert all(len(values) == 1 for values in seen.values()), seen
        assert seen["A"] != seen["B"], seen

    served = {name: next(iter(values)) for name, values in seen.items()}
    print(
        f"{args.runs} runs alternating A and B, {'/'.join(map(str, sorted(changed)))} routes "
        f"changed per run; claude-sonnet-5's Anthropic price and its monthly cost in the "
        f"comparison: {served}"
    )
    print(f"{'':<26}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}")
    for label, values in figures.items():
        print(
            f"{label:<26}{percentile(values, 0.5) * 1000:>8.0f}"
            f"{percentile(values, 0.99) * 1000:>8.0f}{max(values) * 1000:>8.0f}"
        )


if __name__ == "__main__":
    main()
