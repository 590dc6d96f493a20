"""Hostile clients against a real server: how fast they are refused, and what the others see.

Usage: .venv/bin/python bench/hostile.py [--seconds 20] [--attackers 4]

One `llmref serve` (uvicorn, one process) on a fresh PostgreSQL database holding the
models.dev, OpenRouter and LiteLLM snapshots (the catalog the amplification query fans out
over), with a Redis database of its own on 127.0.0.1:6379. Two phases of the same length:

- quiet: a probe GETs /healthz every 20 ms, and a subscriber (one graphql-transport-ws
  connection, one priceChanges subscription) receives an event published every 500 ms the
  way the feed pipeline publishes (row, bump, mark published, XADD; bench/subscriptions.py);
- hostile: the same, while ``--attackers`` clients send, back to back, each in turn: the
  amplification query `{ providers { offerings { provider { offerings { model { offerings
  { id } } } } } } }`, the same through fragments, a 100,000-alias document and a 50 MB
  body.

It reports, per attack, the answer (HTTP status and extensions.code) and its latency
(request sent to answer read), and per phase the /healthz latency and the event latency
(XADD to receipt). Targets (issue 12): refused in < 50 ms, /healthz p99 < 100 ms, event
latency < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import scratch_postgres  # noqa: E402
from bench.subscriptions import SELECTIONS, Clients, Publisher, percentile  # noqa: E402
from tests.api.hostile import (  # noqa: E402
    AMPLIFICATION,
    AMPLIFICATION_WITH_FRAGMENTS,
    many_aliases,
)
from tests.e2e.live import load_catalog, redis_database, serving, wait_subscribers  # noqa: E402

REDIS_DATABASES = (15, 14, 12, 11)
PROBE_EVERY = 0.02
EVENT_EVERY = 0.5
JSON_TYPE = {"content-type": "application/json"}


def attacks() -> list[tuple[str, bytes]]:
    def body(query: str) -> bytes:
        return json.dumps({"query": query}).encode()

    return [
        ("amplification", body(AMPLIFICATION)),
        ("amplification-fragments", body(AMPLIFICATION_WITH_FRAGMENTS)),
        ("100k-aliases", body(many_aliases(100_000))),
        ("50MB-body", b" " * 50_000_000),
    ]


async def attack(base: str, stop: asyncio.Event, results: dict[str, list[Any]]) -> None:
    kinds = attacks()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        index = 0
        while not stop.is_set():
            name, payload = kinds[index % len(kinds)]
            index += 1
            started = time.perf_counter()
            try:
                response = await http.post("/graphql", content=payload, headers=JSON_TYPE)
                answer = response.json()
                code = answer["errors"][0]["extensions"]["code"]
                outcome = f"{response.status_code} {code}"
            except httpx.HTTPError as error:  # the server may close while a body is sent
                outcome = f"closed ({type(error).__name__})"
            results[name].append((outcome, time.perf_counter() - started))


async def probe(base: str, stop: asyncio.Event, latencies: list[float]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while not stop.is_set():
            started = time.perf_counter()
            response = await http.get("/healthz")
            assert response.status_code == 200
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(PROBE_EVERY)


async def events(
    publisher: Publisher, clients: Clients, stop: asyncio.Event, latencies: list[float]
) -> None:
    while not stop.is_set():
        event_id = await asyncio.to_thread(publisher.publish_one)
        await clients.wait_for(event_id, timeout=60)
        latencies.append(clients.received[event_id][0] - publisher.published_at[event_id])
        await asyncio.sleep(EVENT_EVERY)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 0.50) * 1000, 1),
        "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


async def phase(base: str, publisher: Publisher, seconds: float, attackers: int) -> dict[str, Any]:
    clients = Clients(base, SELECTIONS["slim"])
    await clients.open(1)
    await wait_subscribers(base, 1, timeout=60)
    stop = asyncio.Event()
    health: list[float] = []
    delivered: list[float] = []
    attacked: dict[str, list[Any]] = defaultdict(list)
    tasks = [
        asyncio.create_task(probe(base, stop, health)),
        asyncio.create_task(events(publisher, clients, stop, delivered)),
        *(asyncio.create_task(attack(base, stop, attacked)) for _ in range(attackers)),
    ]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    await clients.close()
    return {
        "attackers": attackers,
        "healthz": summary(health),
        "event_latency": summary(delivered),
        "attacks": {
            name: {
                "answers": sorted({outcome for outcome, _ in rows}),
                **summary([seconds for _, seconds in rows]),
            }
            for name, rows in attacked.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--attackers", type=int, default=4)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as scratch,
        redis_database(REDIS_DATABASES) as redis_url,
        scratch_postgres() as database_url,
    ):
        print("loading models.dev, openrouter and litellm...", file=sys.stderr)
        load_catalog(
            database_url,
            redis_url=redis_url,
            snapshots=(("models.dev", None), ("openrouter", None), ("litellm", None)),
        )
        env = {"LLMREF_DATABASE_URL": database_url, "LLMREF_REDIS_URL": redis_url}
        publisher = Publisher(database_url, redis_url)
        try:
            with serving(Path(scratch), env) as (_service, base):
                quiet = asyncio.run(phase(base, publisher, args.seconds, 0))
                hostile = asyncio.run(phase(base, publisher, args.seconds, args.attackers))
        finally:
            publisher.close()
    print(json.dumps({"quiet": quiet, "hostile": hostile}, indent=2))


if __name__ == "__main__":
    main()
