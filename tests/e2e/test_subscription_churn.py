"""2,000 subscriptions opened and closed against one `llmref serve` (PostgreSQL, Redis)
leave nothing behind: no hub subscriber, no asyncio task, no memory growth beyond slack.

Each cycle is one of the ways a subscription ends: the client completes it, closes the
websocket, drops the TCP connection without a close handshake, holds two on one
connection, is refused (EVENTS_EXPIRED), or leaves before its first event. Most replay one
event first (``after``), so the server has certainly registered the subscription before it
ends. A warm-up of 200 cycles comes first; the server's figures after it are the baseline."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.live import (
    TransportWS,
    healthz,
    last_event_id,
    load_catalog,
    redis_database,
    rss_bytes,
    serving,
)
from tests.e2e.processes import Service, postgres_database

REDIS_DATABASES = (7, 10, 11, 12)
CYCLES = 2_000
WARM_UP = 200
PARALLEL = 16
RSS_SLACK = 20 * 1024 * 1024


@dataclass(frozen=True)
class Server:
    service: Service
    base: str
    last_event: int


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cwd = tmp_path_factory.mktemp("churn")
    with (
        redis_database(REDIS_DATABASES) as redis_url,
        postgres_database(prefix="llmref_churn") as database_url,
    ):
        load_catalog(database_url, redis_url=redis_url, snapshots=(("models.dev", None),))
        env = {
            "LLMREF_DATABASE_URL": database_url,
            "LLMREF_REDIS_URL": redis_url,
            "LLMREF_RATE_LIMIT_SUBSCRIPTIONS": "0",  # one address opens them all
        }
        with serving(cwd, env) as (service, base):
            yield Server(service, base, last_event_id(database_url))


Cycle = Callable[[Server], Coroutine[Any, Any, None]]


async def completed(server: Server) -> None:
    async with await TransportWS.open(server.base) as client:
        operation = await client.price_changes(after=str(server.last_event - 1))
        await operation.event(timeout=30)
        await operation.complete()


async def closed(server: Server) -> None:
    async with await TransportWS.open(server.base) as client:
        # two on one connection: a filtered one that replays nothing and waits, and one that
        # replays the last event
        await client.price_changes(models=["claude-sonnet-5"], after=str(server.last_event - 1))
        operation = await client.price_changes(after=str(server.last_event - 1))
        await operation.event(timeout=30)


async def dropped(server: Server) -> None:
    client = await TransportWS.open(server.base)
    operation = await client.price_changes(after=str(server.last_event - 1))
    await operation.event(timeout=30)
    client.connection.transport.abort()  # no close frame, no FIN handshake
    await client.close()


async def refused(server: Server) -> None:
    async with await TransportWS.open(server.base) as client:
        operation = await client.price_changes(after="999999999")
        assert (await operation.ended(timeout=30)).code == "EVENTS_EXPIRED"


async def left_early(server: Server) -> None:
    async with await TransportWS.open(server.base) as client:
        await client.price_changes(providers=["anthropic"])


CYCLE_KINDS: tuple[tuple[int, Cycle], ...] = (
    (1, completed),
    (2, closed),
    (1, dropped),
    (1, refused),
    (1, left_early),
)
"""Each way a subscription ends, with how many subscriptions it opens."""


async def churn(server: Server, subscriptions: int) -> None:
    """Open and end ``subscriptions`` subscriptions, PARALLEL clients at a time."""
    kinds = itertools.cycle(CYCLE_KINDS)
    opened = 0

    async def client_loop() -> None:
        nonlocal opened
        while opened < subscriptions:
            count, cycle = next(kinds)
            opened += count  # counted before the await, so the clients stop at the total
            await cycle(server)

    await asyncio.gather(*(client_loop() for _ in range(PARALLEL)))


async def settled(base: str, timeout: float = 30) -> dict[str, Any]:
    """/healthz once the server has finished with every connection: no subscriber, and the
    task count steady over a few readings."""
    deadline = time.monotonic() + timeout
    readings: list[dict[str, Any]] = []
    while True:
        readings = [*readings[-2:], await healthz(base)]
        if (
            len(readings) == 3
            and readings[-1]["subscribers"] == 0
            and len({r["tasks"] for r in readings}) == 1
        ):
            return readings[-1]
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server did not settle: {readings}")
        await asyncio.sleep(0.2)


@pytest.mark.timeout(300)
async def test_opening_and_closing_2000_subscriptions_leaks_nothing(server: Server) -> None:
    idle = await settled(server.base)
    await churn(server, WARM_UP)
    warm = await settled(server.base)
    warm_rss = rss_bytes(server.service.pid)

    await churn(server, CYCLES)
    after = await settled(server.base)
    after_rss = rss_bytes(server.service.pid)

    print(
        f"tasks idle/warm/after: {idle['tasks']}/{warm['tasks']}/{after['tasks']}; "
        f"RSS warm {warm_rss / 2**20:.1f} MiB, after {after_rss / 2**20:.1f} MiB"
    )
    assert after["subscribers"] == 0
    assert after["tasks"] <= warm["tasks"] == idle["tasks"]
    assert after_rss - warm_rss < RSS_SLACK
    # The server runs in its own process: reading its log here blocks only the test.
    log = Path(server.service.log_path).read_text(errors="replace")  # noqa: ASYNC240
    assert "Traceback" not in log, log[-5000:]
