"""Live price changes end to end: `llmref serve` processes (uvicorn) on a fresh PostgreSQL
database and a Redis database of their own, a real Celery worker (`llmref worker`)
applying LiteLLM snapshots served from 127.0.0.1, and websocket clients speaking
graphql-transport-ws. Prices change only through the real pipeline: the ops mutation
resyncFeed queues a run, the worker fetches the other snapshot of the July 2026 pair
(every claude-sonnet-5 route 3/15 <-> 2/10 USD per 1M tokens, and a few others), applies
it, bumps cache generations, marks the events published and XADDs them; each API process's
hub reads them from the database and fans them out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.e2e.feed_server import FeedServer
from tests.e2e.live import (
    LITELLM_JULY_1,
    LITELLM_JULY_3,
    EventRow,
    Pipeline,
    StalledClient,
    TransportWS,
    event_rows,
    graphql,
    healthz,
    last_event_id,
    load_catalog,
    price_changes_subscription,
    query_price_changes,
    redis_database,
    serving,
    set_feed_url,
    wait_subscribers,
    working,
)
from tests.e2e.processes import (
    create_ops_key,
    llmref_command,
    postgres_database,
    running,
    start_serve,
    wait_until_answers,
)

REDIS_DATABASES = (8, 10, 11, 12)
"""Numbers on the shared Redis server these tests may use (the first not held by another
test session): the stream, cache generations and broker queue of these tests only."""

SONNET = "claude-sonnet-5"
SMALL_QUEUE = 5
LIFETIME_SECONDS = 3.0
PING_SECONDS = 0.3


@dataclass(frozen=True)
class Stack:
    database_url: str
    pipeline: Pipeline
    main: str
    """An API process (keep-alive pings every second, answered by the test client)."""
    second: str
    """Another API process on the same database and Redis."""
    small_queue: str
    """LLMREF_SUBSCRIBER_QUEUE_SIZE=5."""
    short_lived: str
    """Pings every 0.3 s; connections closed after 3 s."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    cwd = tmp_path_factory.mktemp("subscriptions")
    with ExitStack() as exit_stack:
        redis_url = exit_stack.enter_context(redis_database(REDIS_DATABASES))
        database_url = exit_stack.enter_context(postgres_database(prefix="llmref_subs"))
        load_catalog(database_url, redis_url=redis_url)
        feed = exit_stack.enter_context(FeedServer())
        set_feed_url(database_url, "litellm", feed.url)
        ops_key = create_ops_key(database_url, cwd)
        env = {
            "LLMREF_DATABASE_URL": database_url,
            "LLMREF_REDIS_URL": redis_url,
            "LLMREF_RATE_LIMIT_SUBSCRIPTIONS": "0",  # one address opens them all
        }
        exit_stack.enter_context(working(cwd, env))
        variants = {
            "main": {"LLMREF_WS_PING_INTERVAL_SECONDS": "1"},
            "second": {},
            "small_queue": {"LLMREF_SUBSCRIBER_QUEUE_SIZE": str(SMALL_QUEUE)},
            "short_lived": {
                "LLMREF_WS_PING_INTERVAL_SECONDS": str(PING_SECONDS),
                "LLMREF_WS_MAX_CONNECTION_SECONDS": str(LIFETIME_SECONDS),
            },
        }
        started = {}
        for name, extra in variants.items():  # start them all, then wait for each
            service, base = start_serve(cwd, {**env, **extra})
            started[name] = (exit_stack.enter_context(running(service)), base)
        for service, base in started.values():
            wait_until_answers(service, base, timeout=90)
        yield Stack(
            database_url=database_url,
            pipeline=Pipeline(database_url, feed, ops_key),
            **{name: base for name, (_service, base) in started.items()},
        )


def wanted(
    model: str, provider: str, models: list[str] | None = None, providers: list[str] | None = None
) -> bool:
    """Whether a subscription with these filters should get an event of this route."""
    return (not models or model in models) and (not providers or provider in providers)


def only(events: list[dict[str, Any]], **filters: Any) -> list[dict[str, Any]]:
    """The events a subscription with these filters should get, in the same order."""
    return [e for e in events if wanted(e["model"]["slug"], e["provider"]["slug"], **filters)]


def only_rows(rows: list[EventRow], **filters: Any) -> list[EventRow]:
    return [row for row in rows if wanted(row.model, row.provider, **filters)]


def ids(items: list[dict[str, Any]] | list[EventRow]) -> list[int]:
    return [item.id if isinstance(item, EventRow) else int(item["id"]) for item in items]


def sonnet_rows(rows: list[EventRow]) -> list[EventRow]:
    return [row for row in rows if row.model == SONNET]


async def assert_no_more(*operations: Any, wait: float = 0.5) -> None:
    await asyncio.sleep(wait)
    for operation in operations:
        assert operation.pending() == [], f"operation {operation.id} got more than expected"


@pytest.mark.timeout(120)
async def test_filtered_subscriptions_receive_exactly_their_events_in_order(stack: Stack) -> None:
    base = stack.main
    filters: list[dict[str, Any]] = [
        {"models": [SONNET]},
        {"providers": ["amazon-bedrock"]},
        {"models": [SONNET], "providers": ["anthropic", "azure"]},
        {},
    ]
    async with await TransportWS.open(base) as client:
        operations = [await client.price_changes(**f) for f in filters]
        await wait_subscribers(base, len(filters))
        before = await asyncio.to_thread(last_event_id, stack.database_url)
        first = await stack.pipeline.apply_next(base)
        second = await stack.pipeline.apply_next(base)

        assert ids(await asyncio.to_thread(event_rows, stack.database_url, after=before)) == ids(
            first + second
        ), "only the two runs changed prices"
        recorded = await query_price_changes(base, before)
        assert ids(recorded) == ids(first + second)
        assert len(sonnet_rows(first)) > 1 and len(sonnet_rows(second)) > 1
        assert len(recorded) > len(only(recorded, models=[SONNET])), "other models changed too"

        for operation, f in zip(operations, filters, strict=True):
            expected = only(recorded, **f)
            assert expected, f
            # the same events, whole (prices, time, route), in the same order as recorded
            assert await operation.events(len(expected), timeout=30) == expected, f
        await assert_no_more(*operations)


@pytest.mark.timeout(120)
async def test_resuming_with_after_gets_the_missed_events_then_live_ones(stack: Stack) -> None:
    base = stack.main
    async with await TransportWS.open(base) as witness_client:
        witness = await witness_client.price_changes(models=[SONNET])
        async with await TransportWS.open(base) as client:
            operation = await client.price_changes(models=[SONNET])
            await wait_subscribers(base, 2)
            seen_rows = sonnet_rows(await stack.pipeline.apply_next(base))
            seen = await operation.events(len(seen_rows))
        assert ids(seen) == ids(seen_rows)
        await wait_subscribers(base, 1)  # disconnected: only the witness listens

        missed = sonnet_rows(await stack.pipeline.apply_next(base))
        catalog = await asyncio.to_thread(event_rows, stack.database_url)
        far_back = catalog[-600].id  # a long replay
        async with (
            await TransportWS.open(base) as here,
            await TransportWS.open(stack.second) as there,
        ):
            resumed = await here.price_changes(models=[SONNET], after=seen[-1]["id"])
            # resuming in the middle of a run, on the other API process
            midway = await there.price_changes(models=[SONNET], after=str(missed[2].id))
            # everything since far back: the replay is still running when the next run is
            # published, so the handover from replay to live events happens mid-stream
            long_replay = await there.price_changes(after=str(far_back))
            live_run = await stack.pipeline.start_next(base)
            live_rows = await stack.pipeline.finish(base, live_run)
            replayed_when_published = long_replay.inbox.qsize()
            live = sonnet_rows(live_rows)

            got = await resumed.events(len(missed) + len(live))
            got_midway = await midway.events(len(missed) - 3 + len(live))
            everything = await witness.events(len(seen) + len(missed) + len(live))
            since_far_back = await asyncio.to_thread(event_rows, stack.database_url, after=far_back)
            assert since_far_back[-len(live_rows) :] == live_rows
            print(
                f"replayed {replayed_when_published} of {len(since_far_back) - len(live_rows)}"
                " events when the live run was published"
            )
            got_long = await long_replay.events(len(since_far_back), timeout=60)

            assert ids(got) == ids(missed + live)  # no gap, no duplicate, in order
            assert ids(got_midway) == ids(missed[3:] + live)
            assert ids(got_long) == ids(since_far_back)
            assert everything[: len(seen)] == seen
            assert got == everything[len(seen) :]  # replayed events read as the live ones did
            assert got_midway == everything[len(seen) + 3 :]
            assert got_long == await query_price_changes(base, far_back)
            await assert_no_more(resumed, midway, witness, long_replay)
        assert replayed_when_published < len(since_far_back) - len(live_rows), (
            "the long replay had already ended when the live run was published"
        )


@pytest.mark.timeout(120)
async def test_two_api_processes_each_deliver_every_event(stack: Stack) -> None:
    processes = [stack.main, stack.second]
    async with (
        await TransportWS.open(stack.main) as on_main,
        await TransportWS.open(stack.second) as on_second,
    ):
        operations = {}
        for base, client in zip(processes, (on_main, on_second), strict=True):
            operations[base] = (
                await client.price_changes(),
                await client.price_changes(models=[SONNET]),
            )
        for base in processes:
            await wait_subscribers(base, 2)
        before = await asyncio.to_thread(last_event_id, stack.database_url)
        # one run asked for through each process
        rows = await stack.pipeline.apply_next(stack.main)
        rows += await stack.pipeline.apply_next(stack.second)
        recorded = await query_price_changes(stack.second, before)
        assert ids(recorded) == ids(rows)
        for base in processes:
            everything, sonnet = operations[base]
            assert await everything.events(len(rows)) == recorded, base
            assert await sonnet.events(len(sonnet_rows(rows))) == only(recorded, models=[SONNET]), (
                base
            )
        await assert_no_more(*(op for pair in operations.values() for op in pair))


COMPARISON = """query($models: [String!]!) { comparison(models: $models) {
  __typename ... on Comparison { generatedAt monthlyCosts { model { slug } monthlyUsd offering { id } } }
  ... on ComparisonError { code message } } }"""
MODEL_ROUTES = """query($slug: String!) { model(slug: $slug) {
  offerings { id provider { slug } price { inputPerMTok outputPerMTok } } } }"""
PAIR = [SONNET, "gpt-5"]
SONNET_PAGE = """query($search: String!) { models(filter: {search: $search}) {
  edges { node { slug offerings { id price { inputPerMTok outputPerMTok } } } } } }"""


async def comparison(base: str, *, no_cache: bool = False) -> dict[str, Any]:
    answer = (await graphql(base, COMPARISON, {"models": PAIR}, no_cache=no_cache))["comparison"]
    assert answer["__typename"] == "Comparison", answer
    return answer  # type: ignore[no-any-return]


def sonnet_cost(answer: dict[str, Any]) -> dict[str, Any]:
    (cost,) = [c for c in answer["monthlyCosts"] if c["model"]["slug"] == SONNET]
    return cost  # type: ignore[no-any-return]


@pytest.mark.timeout(120)
async def test_a_query_made_on_receipt_shows_the_new_price(stack: Stack) -> None:
    base = stack.main
    cached = await comparison(base)
    assert await comparison(base) == cached, "the second answer comes from the cache"

    async def look(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """What a client sees when it asks right after receiving ``event``."""
        routes = (await graphql(base, MODEL_ROUTES, {"slug": SONNET}))["model"]["offerings"]
        (route,) = [r for r in routes if r["id"] == event["offering"]["id"]]
        return route, await comparison(base), await comparison(base, no_cache=True)

    async with await TransportWS.open(base) as client:
        operation = await client.price_changes(models=[SONNET])
        await wait_subscribers(base, 1)
        run_id = await stack.pipeline.start_next(base)
        received = [await operation.event(timeout=60)]
        seen = [await look(received[0])]
        expected = sonnet_rows(await stack.pipeline.finish(base, run_id))
        while len(received) < len(expected):
            received.append(await operation.event())
            seen.append(await look(received[-1]))
    assert ids(received) == ids(expected)

    for event, (route, answer, computed_afresh) in zip(received, seen, strict=True):
        assert route["price"] == event["current"], event
        assert event["previous"] != event["current"]
        # the comparison a client is served (through the cache) is no longer the one cached
        # before the change, and it is what the database says now
        assert answer["generatedAt"] != cached["generatedAt"]
        assert answer["monthlyCosts"] == computed_afresh["monthlyCosts"]
        assert sonnet_cost(answer)["offering"]["id"] != sonnet_cost(cached)["offering"]["id"]


async def cached_post(base: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """POST a public query; its data, checking it went through the response cache (whose
    answers carry an ETag)."""
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(f"{base}/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200 and "etag" in response.headers, response.headers
    body = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


@pytest.mark.timeout(120)
async def test_every_api_process_serves_the_new_price_to_a_client_that_heard_of_it(
    stack: Stack,
) -> None:
    """The response cache of each process holds the model's routes and the comparison, and
    each keeps the rows of a `models` page that a caller with a key has executed on them
    (api/services/catalog_pages.py); the subscriber listens on one process and asks all
    three of both processes on every receipt."""
    processes = [stack.main, stack.second]

    async def look(base: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        routes = await cached_post(base, MODEL_ROUTES, {"slug": SONNET})
        answer = await cached_post(base, COMPARISON, {"models": PAIR})
        page = await graphql(base, SONNET_PAGE, {"search": SONNET}, key=stack.pipeline.ops_key)
        (node,) = [
            edge["node"] for edge in page["models"]["edges"] if edge["node"]["slug"] == SONNET
        ]
        return routes["model"]["offerings"] + node["offerings"], answer["comparison"]

    cached = {base: await look(base) for base in processes}
    for base in processes:
        assert await look(base) == cached[base], "served from the response cache"
    async with await TransportWS.open(stack.main) as client:
        operation = await client.price_changes(models=[SONNET])
        await wait_subscribers(stack.main, 1)
        run_id = await stack.pipeline.start_next(stack.main)
        received = [await operation.event(timeout=60)]
        seen = [{base: await look(base) for base in processes}]
        expected = sonnet_rows(await stack.pipeline.finish(stack.main, run_id))
        while len(received) < len(expected):
            received.append(await operation.event())
            seen.append({base: await look(base) for base in processes})
    assert ids(received) == ids(expected)
    fresh = await comparison(stack.second, no_cache=True)
    for event, looks in zip(received, seen, strict=True):
        for base, (routes, answer) in looks.items():
            found = [r for r in routes if r["id"] == event["offering"]["id"]]
            assert len(found) == 2, found  # the model's routes, and the page's
            assert all(route["price"] == event["current"] for route in found), (base, event)
            assert answer["generatedAt"] != cached[base][1]["generatedAt"], base
            assert answer["monthlyCosts"] == fresh["monthlyCosts"], base


BIG_MODEL = """model { offerings { id providerModelId region contextWindow status
  provider { slug name url } price { inputPerMTok outputPerMTok cachedInputPerMTok
  tiers { minInputTokens inputPerMTok outputPerMTok cachedInputPerMTok } source effectiveFrom
  currency complete } } aliases { name source } sources { name url retrievedAt field value } }"""
HEAVY_FIELDS = "id " + " ".join(f"m{i}: {BIG_MODEL}" for i in range(30))
"""About 200 kB per event, so that a client that does not read fills the TCP buffers
between it and the server within a few runs."""


@pytest.mark.timeout(180)
async def test_a_client_that_never_reads_is_ended_as_slow_without_delaying_others(
    stack: Stack,
) -> None:
    base = stack.small_queue
    # three events per run: a burst that fits the queue of 5, so only not reading overflows it
    filters: dict[str, Any] = {
        "models": [SONNET],
        "providers": ["anthropic", "azure", "google-vertex"],
    }
    stalled = await StalledClient.open(base, receive_buffer=4096)
    try:
        await stalled.subscribe("slow", price_changes_subscription(HEAVY_FIELDS), filters)
        async with await TransportWS.open(base) as reader:
            reading = await reader.price_changes(**filters)
            await wait_subscribers(base, 2)
            received: list[dict[str, Any]] = []
            slowest = 0.0
            for _ in range(20):
                rows = only_rows(await stack.pipeline.apply_next(base), **filters)
                assert 0 < len(rows) <= SMALL_QUEUE
                published = time.monotonic()
                got = await reading.events(len(rows), timeout=15)
                slowest = max(slowest, time.monotonic() - published)
                assert ids(got) == ids(rows)
                received += got
                if (await healthz(base))["subscribers"] == 1:
                    break  # the hub dropped the client that does not read
            else:
                pytest.fail("the client that never reads was never dropped")
            print(f"reading client: every run's events within {slowest:.3f}s of publication")

            # Now it reads: what the server had sent it, in order, then SLOW_CONSUMER naming
            # the last event it got.
            delivered: list[str] = []
            while True:
                message = await stalled.message(timeout=30)
                if message["type"] != "next" or message["payload"].get("errors"):
                    break
                delivered.append(message["payload"]["data"]["priceChanges"]["id"])
            assert message["type"] in ("next", "error"), message
            errors = (
                message["payload"]["errors"] if message["type"] == "next" else message["payload"]
            )
            assert errors[0]["extensions"]["code"] == "SLOW_CONSUMER", message
            assert delivered == [e["id"] for e in received[: len(delivered)]]
            assert 0 < len(delivered) < len(received)
            after = errors[0]["extensions"]["after"]
            assert after == delivered[-1]

            # ... and resumes from there: the rest, then live events
            async with await TransportWS.open(base) as again:
                resumed = await again.price_changes(**filters, after=after)
                rows = only_rows(await stack.pipeline.apply_next(base), **filters)
                received += await reading.events(len(rows))
                assert (
                    await resumed.events(len(received) - len(delivered))
                    == received[len(delivered) :]
                )
                await assert_no_more(resumed, reading)
    finally:
        stalled.close()


@pytest.mark.timeout(60)
async def test_an_unknown_or_expired_after_is_events_expired(stack: Stack) -> None:
    base = stack.main
    first, last = await asyncio.to_thread(_age_first_event, stack.database_url)
    async with await TransportWS.open(base) as client:
        for after in ("999999999", "not-an-id", str(first)):
            operation = await client.price_changes(after=after)
            ended = await operation.ended(timeout=10)
            assert ended.code == "EVENTS_EXPIRED", (after, ended.message)
            if ended.message["type"] == "next":
                assert (await operation.message(timeout=10))["type"] == "complete"
        # the connection still serves: a kept id replays what follows it
        operation = await client.price_changes(after=str(last - 1))
        assert (await operation.event(timeout=10))["id"] == str(last)


def _age_first_event(database_url: str) -> tuple[int, int]:
    """Make the oldest event older than the retention (30 days); its id and the newest id."""
    from schema.db.engine import make_engine, make_sessionmaker, session_scope
    from schema.models import PriceChangeEvent

    rows = event_rows(database_url)
    engine = make_engine(database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            session.execute(
                update(PriceChangeEvent)
                .where(PriceChangeEvent.id == rows[0].id)
                .values(occurred_at=datetime.now(UTC) - timedelta(days=40))
            )
    finally:
        engine.dispose()
    return rows[0].id, rows[-1].id


@pytest.mark.timeout(60)
async def test_keep_alive_pings_then_the_connection_is_closed_at_its_lifetime(
    stack: Stack,
) -> None:
    base = stack.short_lived
    opened = time.monotonic()
    async with await TransportWS.open(base) as client:
        operation = await client.price_changes(models=[SONNET])
        await wait_subscribers(base, 1)
        await asyncio.sleep(LIFETIME_SECONDS / 2)
        assert not client.closed.done()
        code, reason = await client.wait_closed(timeout=LIFETIME_SECONDS + 20)
        lived = time.monotonic() - opened
        with pytest.raises(AssertionError, match="closed"):
            await operation.event(timeout=1)
    assert code == 4000, (code, reason)
    assert "resume" in (reason or "")
    assert lived >= LIFETIME_SECONDS - 0.2
    assert client.pings >= 3, client.pings  # every 0.3 s, each answered with a pong
    await wait_subscribers(base, 0)


@pytest.mark.timeout(180)
async def test_without_redis_the_in_process_path_delivers_another_process_s_import(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'llmref.db'}"
    await asyncio.to_thread(
        load_catalog,
        database_url,
        redis_url=None,
        snapshots=(("models.dev", None), ("litellm", LITELLM_JULY_1)),
    )
    env = {
        "LLMREF_DATABASE_URL": database_url,
        "LLMREF_RUN_FEEDS": "false",
        "LLMREF_EVENT_POLL_SECONDS": "0.5",
    }
    with serving(tmp_path, env) as (_service, base):
        async with await TransportWS.open(base) as client:
            everything = await client.price_changes()
            sonnet = await client.price_changes(models=[SONNET])
            await wait_subscribers(base, 2)
            before = await asyncio.to_thread(last_event_id, database_url)
            await asyncio.to_thread(
                llmref_command,
                "import",
                "--source",
                "litellm",
                "--file",
                str(LITELLM_JULY_3),
                cwd=tmp_path,
                env={"LLMREF_DATABASE_URL": database_url},
            )
            rows = await asyncio.to_thread(event_rows, database_url, after=before)
            assert rows and all(row.published for row in rows)
            assert len({row.feed_run_id for row in rows}) == 1
            recorded = await query_price_changes(base, before)
            assert ids(recorded) == ids(rows)
            assert await everything.events(len(rows), timeout=30) == recorded
            assert await sonnet.events(len(sonnet_rows(rows)), timeout=30) == only(
                recorded, models=[SONNET]
            )
            await assert_no_more(everything, sonnet)
