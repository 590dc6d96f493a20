"""Whole responses of public queries are served from the response cache without touching
the database, never after the catalog changed, and never for what must not be shared;
automatic persisted queries; ETag and Cache-Control on GET and persisted queries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.response_cache import ResponseStore
from schema.catalog.importer import import_curated
from schema.db.base import utcnow
from schema.db.engine import make_async_engine
from schema.events import publisher
from schema.settings import Settings
from tests.api.test_comparison_cache import reprice
from tests.e2e.live import redis_database

REDIS_DATABASES = (5, 6, 9, 4)
"""Numbers on the shared Redis server these tests may use (the first free one)."""

ROUTES = """query Routes($slug: String!) { model(slug: $slug) {
  offerings { provider { slug } price { inputPerMTok outputPerMTok } } } }"""
COST = """{ comparison(models: ["glm-4v-9b", "qwen3.5-4b"]) {
  ... on Comparison { monthlyCosts { monthlyUsd } } } }"""
GLM = {"slug": "glm-4v-9b"}


class App:
    """The app in-process over ASGI, counting the SQL statements it runs."""

    def __init__(self, http: httpx.AsyncClient, statements: list[str]) -> None:
        self.http = http
        self.statements = statements

    async def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        self.statements.clear()
        return await self.http.post("/graphql", json=body, headers=headers)

    async def get(self, params: dict[str, Any], **headers: str) -> httpx.Response:
        self.statements.clear()
        encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        return await self.http.get("/graphql", params=encoded, headers=headers)


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redis_database(REDIS_DATABASES) as url:
        yield url


async def _app(settings: Settings) -> AsyncIterator[App]:
    engine = make_async_engine(settings.database_url)
    statements: list[str] = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    app = create_app(settings, engine=engine)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        await app.state.hub.ready()
        yield App(http, statements)


@pytest.fixture
async def app(settings: Settings, redis_url: str) -> AsyncIterator[App]:
    async for running in _app(settings.model_copy(update={"redis_url": redis_url})):
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
    async for other in _app(settings.model_copy(update={"redis_url": redis_url})):
        assert (await other.post(hashed)).content == registered.content

    mismatch = await app.post({**hashed, "query": "{ providers { slug } }"})
    assert mismatch.status_code == 400
    assert mismatch.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    version = await app.post({"extensions": {"persistedQuery": {"version": 2}}})
    assert version.status_code == 400


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
