"""Whole responses of public queries are served from the response cache without touching
the database, never after the catalog changed, and never for what must not be shared;
automatic persisted queries; ETag and Cache-Control on GET and persisted queries."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from api.response_cache import (
    Answer,
    CachedResponse,
    GraphQLHttpRequest,
    ResponseStore,
    SingleFlight,
)
from schema.cache import CATALOG_GENERATION_KEY
from schema.catalog.importer import import_curated
from schema.db.base import utcnow
from schema.events import publisher
from schema.ingest.offline import import_snapshot_file
from schema.settings import Settings
from tests.api.served import App, served_app
from tests.api.test_comparison_cache import reprice

MODELS_DEV_FIXTURE = Path(__file__).parents[1] / "fixtures/feeds/models.dev/api.json"

ROUTES = """query Routes($slug: String!) { model(slug: $slug) {
  offerings { provider { slug } price { inputPerMTok outputPerMTok } } } }"""
COST = """{ comparison(models: ["glm-4v-9b", "qwen3.5-4b"]) {
  ... on Comparison { monthlyCosts { monthlyUsd } } } }"""
GLM = {"slug": "glm-4v-9b"}


@pytest.fixture
async def app(settings: Settings, redis_url: str) -> AsyncIterator[App]:
    async for running in served_app(settings.model_copy(update={"redis_url": redis_url})):
        yield running


def _glm_input_prices(response: httpx.Response) -> list[str]:
    body = response.json()
    assert "errors" not in body, body
    return [o["price"]["inputPerMTok"] for o in body["data"]["model"]["offerings"]]


def _cost(response: httpx.Response) -> str:
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["comparison"]["monthlyCosts"][0]["monthlyUsd"]  # type: ignore[no-any-return]


async def test_a_repeated_query_is_served_without_the_database_until_the_catalog_changes(
    app: App, sessions: sessionmaker[Session], redis_url: str, tmp_path: Path
) -> None:
    publish = publisher(sessions, redis_url=redis_url, now=utcnow)
    import_curated(sessions, after_commit=publish)
    routes = {"query": ROUTES, "variables": GLM}
    first = await app.post(routes)
    assert _glm_input_prices(first) == ["0.05"] and app.statements
    again = await app.post(routes)
    assert again.content == first.content and app.statements == []
    # the same document written differently, the same variables: the same entry
    respaced = await app.post({"query": "# routes\n" + " ".join(ROUTES.split()), "variables": GLM})
    assert respaced.content == first.content and app.statements == []
    other = await app.post({"query": ROUTES, "variables": {"slug": "qwen3.5-4b"}})
    assert other.content != first.content and app.statements
    assert _cost(await app.post({"query": COST})) == "103.00"
    assert _cost(await app.post({"query": COST})) == "103.00" and app.statements == []

    import_curated(sessions, reprice(tmp_path, "0.10", "0.50"), after_commit=publish)
    changed = await app.post(routes)
    assert _glm_input_prices(changed) == ["0.1"] and app.statements
    assert _cost(await app.post({"query": COST})) == "206.00"  # 56 + 150
    assert (await app.post(routes)).content == changed.content and app.statements == []


async def test_what_must_not_be_shared_is_always_executed(
    app: App, sessions: sessionmaker[Session]
) -> None:
    import_curated(sessions)
    routes = {"query": ROUTES, "variables": GLM}
    await app.post(routes)
    # a caller with a key (who may see ops data), and a caller asking for a fresh answer
    assert (await app.post(routes, authorization="Bearer not-a-key")).status_code == 200
    assert app.statements
    await app.post(routes, **{"cache-control": "no-cache"})
    assert app.statements
    events = {"query": "{ priceChanges(first: 5) { id } }"}
    for _ in range(2):
        await app.post(events)
        assert app.statements
    # answers with errors and mutations are never stored (stored answers carry an ETag)
    too_many = {"query": "{ models(first: 500) { totalCount } }"}
    mutation = {"query": 'mutation { resyncFeed(source: "litellm") { __typename } }'}
    for body, code in ((too_many, "BAD_USER_INPUT"), (mutation, "UNAUTHENTICATED")):
        for _ in range(2):
            answer = await app.post(body)
            assert answer.json()["errors"][0]["extensions"]["code"] == code
            assert "etag" not in answer.headers
    assert "etag" in (await app.post(routes)).headers


async def test_a_request_repeated_byte_for_byte_is_parsed_once(
    app: App, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    import_curated(sessions)
    parsed: list[bytes] = []
    parse = GraphQLHttpRequest.parse.__func__  # type: ignore[attr-defined]

    def counting(cls: type[GraphQLHttpRequest], method: str, raw: bytes) -> Any:
        parsed.append(raw)
        return parse(cls, method, raw)

    monkeypatch.setattr(GraphQLHttpRequest, "parse", classmethod(counting))
    routes = {"query": ROUTES, "variables": GLM}
    answers = [await app.post(routes) for _ in range(3)]
    assert len(parsed) == 1 and len({answer.content for answer in answers}) == 1
    # the plan is the body's; the caller's headers are still read every time
    assert (await app.post(routes, authorization="Bearer not-a-key")).status_code == 200
    assert app.statements and len(parsed) == 1
    await app.post({"query": ROUTES, "variables": {"slug": "qwen3.5-4b"}})
    assert len(parsed) == 2


def _persisted(query_hash: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": query_hash}}


async def test_automatic_persisted_queries_over_post_and_get_with_etags(
    app: App, settings: Settings, redis_url: str, sessions: sessionmaker[Session]
) -> None:
    import_curated(sessions)
    query_hash = hashlib.sha256(ROUTES.encode()).hexdigest()
    hashed = {"variables": GLM, "extensions": _persisted(query_hash)}
    unknown = await app.post(hashed)
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0] == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }
    registered = await app.post({**hashed, "query": ROUTES})
    assert _glm_input_prices(registered) == ["0.05"]
    by_hash = await app.post(hashed)
    assert by_hash.content == registered.content and app.statements == []
    assert by_hash.headers["cache-control"] == "public, no-cache"
    etag = by_hash.headers["etag"]

    # GET with the hash only, as Apollo Client sends hashed queries
    got = await app.get({"variables": GLM, "extensions": _persisted(query_hash)})
    assert got.content == registered.content and got.headers["etag"] == etag
    unchanged = await app.get(
        {"variables": GLM, "extensions": _persisted(query_hash)}, **{"if-none-match": etag}
    )
    assert unchanged.status_code == 304 and unchanged.content == b""
    plain_get = await app.get({"query": ROUTES, "variables": GLM})
    assert plain_get.content == registered.content and plain_get.headers["etag"] == etag
    assert "etag" in (await app.post({"query": ROUTES, "variables": GLM})).headers
    assert "cache-control" not in (await app.post({"query": ROUTES, "variables": GLM})).headers

    # known to every process sharing the Redis
    async for other in served_app(settings.model_copy(update={"redis_url": redis_url})):
        assert (await other.post(hashed)).content == registered.content

    mismatch = await app.post({**hashed, "query": "{ providers { slug } }"})
    assert mismatch.status_code == 400
    assert mismatch.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    version = await app.post({"extensions": {"persistedQuery": {"version": 2}}})
    assert version.status_code == 400


async def test_an_ingest_that_changes_only_a_models_facts_shows_at_once(
    app: App, sessions: sessionmaker[Session], redis_url: str, tmp_path: Path
) -> None:
    publish = publisher(sessions, redis_url=redis_url, now=utcnow)
    snapshot = json.loads(MODELS_DEV_FIXTURE.read_text())
    path = tmp_path / "api.json"
    path.write_text(json.dumps(snapshot))
    now = datetime(2026, 7, 1, tzinfo=UTC)
    ingest = functools.partial(
        import_snapshot_file, sessions, "models.dev", path, now=lambda: now, after_commit=publish
    )
    assert ingest().report
    step = {"query": 'query Step { model(slug: "step-3.5-flash") { releasedOn } }'}
    assert (await app.post(step)).json() == {"data": {"model": {"releasedOn": "2026-01-29"}}}

    snapshot["openrouter"]["models"]["stepfun/step-3.5-flash"]["release_date"] = "2026-02-02"
    path.write_text(json.dumps(snapshot))
    outcome = ingest()  # the same data date: no route changes
    assert outcome.report is not None and outcome.report.model_ids == set()
    assert (await app.post(step)).json() == {"data": {"model": {"releasedOn": "2026-02-02"}}}
    with redis.Redis.from_url(redis_url) as client:
        generation = client.get(CATALOG_GENERATION_KEY)
        publish((), catalog_changed=False)  # the sweep, with nothing left to publish
        assert client.get(CATALOG_GENERATION_KEY) == generation


def test_the_store_keeps_the_most_recently_used_answers_within_its_byte_budget() -> None:
    store = ResponseStore(max_bytes=3000)
    for key in "abc":
        store.put(key, key.encode() * 1000, generation=1)
    assert store.get("a") is not None  # now the most recently used
    store.put("d", b"d" * 1500, generation=1)  # 4,500 bytes: b, then c, go
    assert [k for k in "abcd" if store.get(k) is not None] == ["a", "d"]
    assert len(store) == 2
    store.put("a", b"A" * 2000, generation=2)  # replacing counts the new size only
    assert store.get("a") is not None and store.get("d") is None
    assert store.get("a").body == b"A" * 2000  # type: ignore[union-attr]


def _sample(text: str, name: str, **labels: str) -> float | None:
    rendered = ",".join(f'{key}="{value}"' for key, value in labels.items())
    match = re.search("^" + re.escape(f"{name}{{{rendered}}}") + r" (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


async def test_requests_missing_the_same_answer_at_once_share_one_execution(
    app: App, sessions: sessionmaker[Session], redis_url: str
) -> None:
    publish = publisher(sessions, redis_url=redis_url, now=utcnow)
    import_curated(sessions, after_commit=publish)
    routes = {"query": ROUTES, "variables": GLM}
    await app.post(routes)
    publish((), catalog_changed=True)
    answer = await app.post(routes)
    one_execution = list(app.statements)
    assert _glm_input_prices(answer) == ["0.05"] and one_execution

    publish(())  # every stored answer is stale at once
    app.statements.clear()
    answers = await asyncio.gather(*(app.http.post("/graphql", json=routes) for _ in range(20)))
    assert {a.content for a in answers} == {answer.content}
    # executed once for the 20 (the same statements; independent batches run in any order)
    assert sorted(app.statements) == sorted(one_execution)
    assert (await app.post(routes)).content == answer.content and app.statements == []

    # executed by the view: 3; answered by the cache: 19 shared, 1 stored
    metrics = (await app.http.get("/metrics")).text
    total = "llmref_graphql_requests_total"
    assert _sample(metrics, total, operation="Routes", outcome="ok", cache="miss") == 3
    assert _sample(metrics, total, operation="Routes", outcome="ok", cache="hit") == 20
    count = "llmref_graphql_request_seconds_count"
    assert _sample(metrics, count, operation="Routes", cache="hit") == 20


async def test_requests_sharing_a_failed_execution_get_its_error_and_the_next_executes(
    app: App, sessions: sessionmaker[Session], redis_url: str
) -> None:
    import_curated(sessions, after_commit=publisher(sessions, redis_url=redis_url, now=utcnow))
    failures: list[str] = []

    def database_down(*args: Any) -> None:
        if "offerings" in args[2]:
            failures.append(args[2])
            raise ConnectionError("database down")

    routes = {"query": ROUTES, "variables": GLM}
    engine = app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", database_down)
    try:
        answers = await asyncio.gather(*(app.http.post("/graphql", json=routes) for _ in range(10)))
    finally:
        event.remove(engine, "before_cursor_execute", database_down)
    assert len(failures) == 1  # one execution, failed
    assert len({a.content for a in answers}) == 1 and "errors" in answers[0].json()
    assert "etag" not in answers[0].headers
    assert _glm_input_prices(await app.post(routes)) == ["0.05"] and app.statements


def _answer() -> CachedResponse:
    return ResponseStore().put("k", b'{"data": {}}', generation=1)


async def test_a_cancelled_execution_passes_to_a_waiting_request() -> None:
    flights, key, answer = SingleFlight(), ("k", 1), _answer()
    started, never = asyncio.Event(), asyncio.Event()
    runs: list[str] = []

    async def slow() -> Answer:
        runs.append("slow")
        started.set()
        await never.wait()
        return answer

    async def fast() -> Answer:
        runs.append("fast")
        await asyncio.sleep(0)  # as any execution does (I/O)
        return answer

    first = asyncio.create_task(flights.run(key, slow))
    await started.wait()
    waiting = [asyncio.create_task(flights.run(key, fast)) for _ in range(3)]
    impatient = asyncio.create_task(flights.run(key, fast))
    await asyncio.sleep(0)
    impatient.cancel()  # a waiter leaving changes nothing for the others
    await asyncio.sleep(0)
    first.cancel()
    assert await asyncio.gather(*waiting) == [(answer, False), (answer, True), (answer, True)]
    assert runs == ["slow", "fast"] and first.cancelled() and len(flights) == 0


async def test_a_failed_execution_fails_the_requests_waiting_for_it() -> None:
    flights, key = SingleFlight(), ("k", 1)
    started, fail = asyncio.Event(), asyncio.Event()
    runs: list[str] = []

    async def broken() -> Answer:
        runs.append("broken")
        started.set()
        await fail.wait()
        raise ConnectionError("database down")

    tasks = [asyncio.create_task(flights.run(key, broken))]
    await started.wait()
    tasks += [asyncio.create_task(flights.run(key, broken)) for _ in range(3)]
    await asyncio.sleep(0)
    fail.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert runs == ["broken"] and len(flights) == 0
    assert all(isinstance(r, ConnectionError) and str(r) == "database down" for r in results)
    assert (await flights.run(key, _fast(_answer())))[1] is False  # nothing left behind


def _fast(answer: Answer) -> Callable[[], Awaitable[Answer]]:
    async def execute() -> Answer:
        return answer

    return execute
