"""Bounded work per request: list sizes, the cost limit, the body and document limits and
the operation timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from graphql import (
    GraphQLList,
    GraphQLObjectType,
    get_introspection_query,
    get_named_type,
    get_nullable_type,
    parse,
)
from sqlalchemy.orm import Session, sessionmaker

from api.graphql.cost import BOUNDED_LISTS, operation_cost
from api.graphql.schema import build_schema
from schema.catalog.importer import import_curated
from schema.models import LlmModel, Offering, Provider
from schema.settings import Settings
from tests.api.hostile import (
    AMPLIFICATION,
    AMPLIFICATION_WITH_FRAGMENTS,
    FULL_COMPARISON,
    MODELS_PAGE,
    many_aliases,
)
from tests.conftest import app_settings, asgi_client, graphql

SCHEMA = build_schema(Settings())._schema
LIMIT = Settings().max_query_cost


def cost(document: str, variables: dict[str, object] | None = None) -> int:
    return operation_cost(SCHEMA, parse(document), None, variables, max_page_size=200)


def test_every_object_list_is_paginated_or_bounded() -> None:
    unbounded = [
        f"{named.name}.{name}"
        for named in SCHEMA.type_map.values()
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__")
        for name, field in named.fields.items()
        if isinstance(get_nullable_type(field.type), GraphQLList)
        and isinstance(get_named_type(field.type), GraphQLObjectType)
        and "first" not in field.args
        and name != "edges"  # a connection's edges: sized by the connection's `first`
        and f"{named.name}.{name}" not in BOUNDED_LISTS
    ]
    assert unbounded == []


def test_list_sizes_multiply_through_nesting() -> None:
    one = cost("{ providers(first: 10) { offerings(first: 10) { id } } }")
    assert one == 1 + 10 * (1 + 10 * 1)
    nested = cost(
        "{ providers(first: 10) { offerings(first: 10) { model { offerings(first: 5) { id } } } } }"
    )
    assert nested == 1 + 10 * (1 + 10 * (1 + 1 * (1 + 5)))


def test_defaults_variables_aliases_and_fragments_count() -> None:
    by_default = cost("{ providers { slug } }")
    assert by_default == 1 + 100  # providers(first: 100) by default
    assert cost("query($n: Int) { providers(first: $n) { slug } }", {"n": 7}) == 1 + 7
    assert cost("query($n: Int = 3) { providers(first: $n) { slug } }") == 1 + 3
    assert cost("{ a: providers { slug } b: providers { slug } }") == 2 * by_default
    spread = "{ ...F ...F } fragment F on Query { providers { slug } }"
    assert cost(spread) == 2 * by_default
    assert cost("{ models(first: 20) { edges { node { slug } } } }") == 1 + 1 + 20 * 2


def test_the_hostile_documents_cost_far_more_than_the_limit() -> None:
    assert cost(AMPLIFICATION) > 100 * LIMIT
    assert cost(AMPLIFICATION_WITH_FRAGMENTS) > 100 * LIMIT


def test_what_frontends_ask_for_fits_the_default_limit() -> None:
    assert cost(MODELS_PAGE) <= LIMIT
    assert cost(FULL_COMPARISON, {"models": ["a", "b"]}) <= LIMIT
    assert cost(get_introspection_query()) <= LIMIT  # GraphiQL's


@pytest.mark.parametrize("document", [AMPLIFICATION, AMPLIFICATION_WITH_FRAGMENTS])
async def test_amplification_is_refused_before_running(
    sqlite_client: httpx.AsyncClient, document: str
) -> None:
    body = await graphql(sqlite_client, document)
    assert body["data"] is None
    (error,) = body["errors"]  # type: ignore[misc]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["limit"] == LIMIT
    assert error["extensions"]["cost"] == cost(document)
    assert f"limit of {LIMIT}" in error["message"]


async def test_a_huge_document_is_refused_before_parsing(database_urls: dict[str, str]) -> None:
    settings = app_settings(database_urls["sqlite"], max_body_bytes=10_000_000)
    document = many_aliases(100_000)
    async with asgi_client(settings) as http:
        response = await http.post("/graphql", json={"query": document})
    assert response.status_code == 413
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "DOCUMENT_TOO_LARGE"}
    assert f"{len(document)} bytes, more than the {settings.max_document_bytes}" in error["message"]


async def test_documents_over_websockets_meet_the_same_size_limit(
    database_urls: dict[str, str],
) -> None:
    """The size gate in the schema extension (what a subscription document passes)."""
    from api.graphql.schema import build_schema

    settings = app_settings(database_urls["sqlite"])
    result = await build_schema(settings).execute(many_aliases(10_000))
    (error,) = result.errors or []
    assert error.extensions == {
        "code": "DOCUMENT_TOO_LARGE",
        "size": len(many_aliases(10_000)),
        "limit": settings.max_document_bytes,
    }


async def test_too_many_tokens_stop_the_parser(sqlite_client: httpx.AsyncClient) -> None:
    document = "{" + " a" * 5001 + " }"  # 10 KB, under the size limit
    body = await graphql(sqlite_client, document)
    (error,) = body["errors"]  # type: ignore[misc]
    assert "more than 5000 tokens" in error["message"]
    assert error["extensions"]["code"] == "DOCUMENT_TOO_LARGE"


async def test_a_body_over_the_limit_is_refused_unread(sqlite_client: httpx.AsyncClient) -> None:
    response = await sqlite_client.post(
        "/graphql", content=b"x" * 50_000_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(3):
            yield b" " * 500_000

    response = await sqlite_client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def _add_provider_with_routes(sessions: sessionmaker[Session], routes: int) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with sessions.begin() as session:
        provider = Provider(slug="big", name="Big")
        session.add(provider)
        session.flush()
        for index in range(routes):
            model = LlmModel(slug=f"m{index:03}", name=f"M {index:03}")
            session.add(model)
            session.flush()
            session.add(
                Offering(
                    model_id=model.id,
                    provider_id=provider.id,
                    provider_model_id=f"m{index:03}",
                    updated_at=at,
                )
            )


async def test_provider_offerings_come_in_pages(
    client: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    _add_provider_with_routes(sessions, 130)
    query = """query($first: Int, $offset: Int) { provider(slug: "big") {
        offerings(first: $first, offset: $offset) { providerModelId } } }"""

    async def ids(**variables: object) -> list[str]:
        body = await graphql(client, query, variables)
        assert "errors" not in body, body
        return [o["providerModelId"] for o in body["data"]["provider"]["offerings"]]  # type: ignore[index]

    first_page = await ids()
    assert len(first_page) == 100  # the default
    rest = await ids(offset=100)
    assert len(rest) == 30
    assert sorted(first_page + rest) == [f"m{index:03}" for index in range(130)]
    assert await ids(first=2, offset=5) == first_page[5:7]
    body = await graphql(client, query, {"first": 201})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # type: ignore[index]
    body = await graphql(client, query, {"offset": -1})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # type: ignore[index]


async def test_the_pages_frontends_ask_for_are_served(
    client: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    import_curated(sessions)
    body = await graphql(client, MODELS_PAGE)
    assert "errors" not in body, body
    assert body["data"]["models"]["edges"]  # type: ignore[index]
    body = await graphql(client, FULL_COMPARISON, {"models": ["glm-4v-9b", "qwen3.5-4b"]})
    assert "errors" not in body, body
    assert body["data"]["comparison"]["__typename"] == "Comparison"  # type: ignore[index]


async def test_a_slow_operation_is_stopped(database_urls: dict[str, str]) -> None:
    settings = app_settings(database_urls["postgresql"], operation_timeout_seconds=0.000001)
    async with asgi_client(settings) as http:
        body = await graphql(http, "{ providers { slug } }")
    (error,) = body["errors"]  # type: ignore[misc]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert body["data"] is None


def test_the_document_cache_keeps_the_most_recent_few() -> None:
    from api.graphql.limits import DocumentCache

    cache = DocumentCache(size=2)
    for query in ("{ a }", "{ b }"):
        cache.put(query, parse(query), [])
    assert cache.get("{ a }") is not None  # now the most recent
    cache.put("{ c }", parse("{ c }"), [])
    assert cache.get("{ b }") is None
    assert cache.get("{ a }") is not None and cache.get("{ c }") is not None
