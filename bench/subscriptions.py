"""Event delivery latency: from the XADD to the stream to receipt by each websocket client.

Usage: .venv/bin/python bench/subscriptions.py [--events 20] [--subscribers 1,100,1000]

One `llmref serve` (uvicorn, one process) on a fresh PostgreSQL database (the models.dev
snapshot imported) and a Redis database of its own on 127.0.0.1:6379. For each number of
subscribers N: open N graphql-transport-ws connections with one unfiltered priceChanges
subscription each, wait until the server's /healthz counts N subscribers, then publish
events one at a time as the feed pipeline does: insert a price-change row (a copy of a
recorded price, kind CHANGED) and call schema.events.publish_pending with the Redis pair
(bump generations, mark published, XADD), noting time.time() just before the XADD of each
event. Each client notes time.time() when the `next` message arrives. Latency = receipt -
publish, for every (subscriber, event) pair; the next event is published once every
subscriber has the previous one. Two warm-up events per N are not counted. The clients all
run in this process (one asyncio loop), so their own parsing is part of the figure. "cpu
ms/event" is the server process's user + system CPU time over the counted events (from
/proc), divided by their number: less disturbed by a loaded machine than the latencies.
The server's pid is printed first, for a profiler (py-spy record -p PID).

Two selections: `slim` (id kind occurredAt previous/current prices: nothing to resolve)
and `nested` (also model/provider slugs and the offering id, loaded through DataLoaders,
as the e2e tests select).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import scratch_postgres
from schema.db.base import utcnow
from schema.db.engine import make_engine, make_sessionmaker, session_scope
from schema.events import publish_pending, redis_bump_and_xadd
from schema.models import PriceChangeEvent
from tests.e2e.live import (
    SUBPROTOCOL,
    load_catalog,
    price_changes_subscription,
    redis_database,
    serving,
    wait_subscribers,
    ws_url,
)

REDIS_DATABASES = (14, 12, 11, 10)
SELECTIONS = {
    "slim": "id kind occurredAt previous { inputPerMTok outputPerMTok } current { inputPerMTok outputPerMTok }",
    "nested": "id kind occurredAt model { slug } provider { slug } offering { id }"
    " previous { inputPerMTok outputPerMTok } current { inputPerMTok outputPerMTok }",
}
WARM_UP_EVENTS = 2
OPEN_AT_ONCE = 50


def raise_file_limit(wanted: int) -> None:
    """Enough descriptors for the clients here and the server (a child inherits them)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


class Publisher:
    """Inserts price-change rows and publishes them as the pipeline does, timing the XADD."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.engine = make_engine(database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.bump, self.xadd = redis_bump_and_xadd(redis_url)
        self.published_at: dict[str, float] = {}
        with self.sessions() as session:
            self.templates = list(
                session.scalars(
                    select(PriceChangeEvent)
                    .where(PriceChangeEvent.kind == "ADDED")
                    .order_by(PriceChangeEvent.id)
                    .limit(50)
                )
            )
            session.expunge_all()
        self._count = 0

    def _timed_xadd(self, messages: list[dict[str, str]]) -> None:
        now = time.time()
        for message in messages:
            self.published_at[message["id"]] = now
        self.xadd(messages)

    def publish_one(self) -> str:
        template = self.templates[self._count % len(self.templates)]
        self._count += 1
        with session_scope(self.sessions) as session:
            event = PriceChangeEvent(
                kind="CHANGED",
                offering_id=template.offering_id,
                model_id=template.model_id,
                provider_id=template.provider_id,
                previous=template.current,
                current=template.current,
                occurred_at=utcnow(),
            )
            session.add(event)
            session.flush()
            event_id = str(event.id)
        published = publish_pending(
            self.sessions, bump=self.bump, xadd=self._timed_xadd, now=utcnow
        )
        assert published == 1, published
        return event_id

    def close(self) -> None:
        self.engine.dispose()


class Clients:
    """N websocket clients, one subscription each; receipt times per event id."""

    def __init__(self, base: str, selection: str) -> None:
        self.base = base
        self.query = price_changes_subscription(selection)
        self.connections: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.received: dict[str, list[float]] = {}
        self.complete: dict[str, asyncio.Event] = {}

    async def open(self, count: int) -> None:
        for start in range(0, count, OPEN_AT_ONCE):
            batch = min(OPEN_AT_ONCE, count - start)
            self.connections += await asyncio.gather(*(self._open_one() for _ in range(batch)))
        self.readers = [asyncio.create_task(self._read(c)) for c in self.connections]

    async def _open_one(self) -> ClientConnection:
        connection = await connect(ws_url(self.base), subprotocols=[SUBPROTOCOL], open_timeout=60)
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        while json.loads(await connection.recv())["type"] != "connection_ack":
            pass
        await connection.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": self.query, "variables": {}}}
            )
        )
        return connection

    async def _read(self, connection: ClientConnection) -> None:
        async for raw in connection:
            arrived = time.time()
            message = json.loads(raw)
            if message["type"] == "ping":
                await connection.send('{"type": "pong"}')
                continue
            if message["type"] != "next":
                raise RuntimeError(f"unexpected message: {message}")
            event_id = message["payload"]["data"]["priceChanges"]["id"]
            times = self.received.setdefault(event_id, [])
            times.append(arrived)
            if len(times) == len(self.connections):
                self.complete.setdefault(event_id, asyncio.Event()).set()

    async def wait_for(self, event_id: str, timeout: float) -> None:
        await asyncio.wait_for(self.complete.setdefault(event_id, asyncio.Event()).wait(), timeout)

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in self.connections), return_exceptions=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    base: str, server_pid: int, publisher: Publisher, subscribers: int, events: int, selection: str
) -> dict[str, Any]:
    clients = Clients(base, SELECTIONS[selection])
    await clients.open(subscribers)
    try:
        await wait_subscribers(base, subscribers, timeout=120)
        latencies: list[float] = []
        last_receipts: list[float] = []
        for index in range(WARM_UP_EVENTS + events):
            if index == WARM_UP_EVENTS:
                cpu_before = cpu_seconds(server_pid)
            event_id = await asyncio.to_thread(publisher.publish_one)
            await clients.wait_for(event_id, timeout=120)
            if index >= WARM_UP_EVENTS:
                sent = publisher.published_at[event_id]
                arrivals = [t - sent for t in clients.received[event_id]]
                latencies += arrivals
                last_receipts.append(max(arrivals))
            await asyncio.sleep(0.05)
        server_cpu = cpu_seconds(server_pid) - cpu_before
    finally:
        await clients.close()
    await wait_subscribers(base, 0, timeout=60)
    return {
        "selection": selection,
        "subscribers": subscribers,
        "events": events,
        "samples": len(latencies),
        "p50": percentile(latencies, 0.50) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "max": max(latencies) * 1000,
        "last_p50": statistics.median(last_receipts) * 1000,
        "cpu": server_cpu / events * 1000,
    }


async def run_all(
    base: str,
    server_pid: int,
    publisher: Publisher,
    counts: list[int],
    events: int,
    selections: list[str],
) -> list[dict[str, Any]]:
    rows = []
    for selection in selections:
        for count in counts:
            row = await measure(base, server_pid, publisher, count, events, selection)
            print(
                f"  {selection} x {count}: p50 {row['p50']:.1f} ms, p99 {row['p99']:.1f} ms",
                file=sys.stderr,
            )
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--subscribers", default="1,100,1000")
    parser.add_argument("--selections", default="slim,nested")
    args = parser.parse_args()
    counts = [int(n) for n in args.subscribers.split(",")]
    selections = args.selections.split(",")
    raise_file_limit(2 * max(counts) + 1024)

    with (
        tempfile.TemporaryDirectory() as scratch,
        redis_database(REDIS_DATABASES) as redis_url,
        scratch_postgres() as database_url,
    ):
        print("loading the models.dev snapshot...", file=sys.stderr)
        load_catalog(database_url, redis_url=redis_url, snapshots=(("models.dev", None),))
        env = {
            "LLMREF_DATABASE_URL": database_url,
            "LLMREF_REDIS_URL": redis_url,
            "LLMREF_RATE_LIMIT_SUBSCRIPTIONS": "0",  # one address opens them all
        }
        publisher = Publisher(database_url, redis_url)
        try:
            with serving(Path(scratch), env) as (service, base):
                print(f"server pid {service.pid}", file=sys.stderr)
                rows = asyncio.run(
                    run_all(base, service.pid, publisher, counts, args.events, selections)
                )
        finally:
            publisher.close()

    print(
        f"{'selection':<10}{'subscribers':>12}{'events':>8}{'samples':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'last p50 ms':>13}{'cpu ms/event':>14}"
    )
    for row in rows:
        print(
            f"{row['selection']:<10}{row['subscribers']:>12}{row['events']:>8}{row['samples']:>9}"
            f"{row['p50']:>9.1f}{row['p99']:>9.1f}{row['max']:>9.1f}{row['last_p50']:>13.1f}"
            f"{row['cpu']:>14.1f}"
        )


if __name__ == "__main__":
    main()
