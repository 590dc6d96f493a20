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
  { id } } } } } } }`, the same through fragments, a 100,000-alias document (1.9 MB) and
  a request announcing a 50 MB body (its first 64 KiB sent). Each attacker is a process of
  its own, so its CPU is not the probe's (on this 2-core machine it still competes with
  the server).

It reports, per attack, the answer (HTTP status and extensions.code) and its latency
(request sent to answer read), and per phase the /healthz latency and the event latency
(XADD to receipt). Targets (issue 12): refused in < 50 ms, /healthz p99 < 100 ms, event
latency < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import scratch_postgres
from bench.subscriptions import SELECTIONS, Clients, Publisher, percentile
from tests.api.hostile import (
    AMPLIFICATION,
    AMPLIFICATION_WITH_FRAGMENTS,
    many_aliases,
)
from tests.e2e.live import load_catalog, redis_database, serving, wait_subscribers

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
    ]


async def post_huge_body(base: str, size: int = 50_000_000) -> str:
    """Announce a ``size``-byte body and send its first 64 KiB over a raw connection, then
    wait for the answer (the server answers from the announced length, before reading the
    body; sending all of it would only measure loopback); the status and code."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            f"POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\nConnection: close\r\n\r\n".encode()
        )
        writer.write(b" " * 65536)
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        length = int(re.search(r"(?im)^content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        body = json.loads(await reader.readexactly(length))
    finally:
        writer.close()
    return f"{head.split()[1]} {body['errors'][0]['extensions']['code']}"


async def attack(base: str, seconds: float) -> dict[str, list[tuple[str, float]]]:
    """Send the attacks back to back for ``seconds``; (answer, latency) per attack."""
    results: dict[str, list[tuple[str, float]]] = defaultdict(list)
    kinds = attacks()
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while time.monotonic() < deadline:
            for name, payload in kinds:
                started = time.perf_counter()
                response = await http.post("/graphql", content=payload, headers=JSON_TYPE)
                code = response.json()["errors"][0]["extensions"]["code"]
                results[name].append(
                    (f"{response.status_code} {code}", time.perf_counter() - started)
                )
            started = time.perf_counter()
            outcome = await post_huge_body(base)
            results["50MB-body"].append((outcome, time.perf_counter() - started))
    return results


def attacker_process(base: str, seconds: float) -> dict[str, list[tuple[str, float]]]:
    """One hostile client in a process of its own (its CPU is not the probe's)."""
    return asyncio.run(attack(base, seconds))


async def probe(base: str, stop: asyncio.Event, latencies: list[float]) -> None:
    """GET /healthz every PROBE_EVERY seconds, noting each answer's latency."""
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
    tasks = [
        asyncio.create_task(probe(base, stop, health)),
        asyncio.create_task(events(publisher, clients, stop, delivered)),
    ]
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max(1, attackers)) as pool:
        hostile = [
            loop.run_in_executor(pool, attacker_process, base, seconds) for _ in range(attackers)
        ]
        await asyncio.sleep(seconds)
        attacked: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for result in await asyncio.gather(*hostile):
            for name, rows in result.items():
                attacked[name] += rows
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
                **summary([latency for _, latency in rows]),
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
