"""The catalog list runs a fixed number of SQL statements however many models it shows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from schema.db.engine import make_async_engine
from schema.domain.observations import PriceTierObservation
from schema.models import LlmModel, Offering, Organization, Price, Provider
from schema.settings import Settings

QUERY = """{ models(first: 50) { edges { node { creator { name }
  offerings { provider { name } price { inputPerMTok tiers { minInputTokens } } }
  cheapestOffering { provider { slug } } } } } }"""


def _add_catalog(sessions: sessionmaker[Session], count: int) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with sessions.begin() as session:
        providers = [Provider(slug=f"p{i}", name=f"Provider {i}") for i in range(3)]
        creators = [Organization(slug=f"o{i}", name=f"Org {i}") for i in range(count)]
        session.add_all(providers + creators)
        session.flush()
        for index in range(count):
            model = LlmModel(
                slug=f"m{index:03}", name=f"Model {index:03}", creator_id=creators[index].id
            )
            session.add(model)
            session.flush()
            for number, provider in enumerate(providers[:2]):
                offering = Offering(
                    model_id=model.id, provider_id=provider.id, provider_model_id=f"m{index}"
                )
                session.add(offering)
                session.flush()
                session.add(
                    Price(
                        offering_id=offering.id,
                        source="curated",
                        effective_from=at,
                        input_per_mtok=Decimal(number + 1),
                        output_per_mtok=Decimal(2),
                        tiers=(PriceTierObservation(200_000, Decimal(5), Decimal(6)),),
                    )
                )


async def _count_statements(settings: Settings, query: str = QUERY) -> tuple[int, dict[str, Any]]:
    statements, _checkouts, body = await _count(settings, query)
    return len(statements), body


async def _count(settings: Settings, query: str) -> tuple[list[str], int, dict[str, Any]]:
    """The SQL statements and the connection checkouts of one request; its answer."""
    engine = make_async_engine(settings.database_url)
    statements: list[str] = []
    checkouts: list[object] = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    event.listen(engine.sync_engine.pool, "checkout", lambda *args: checkouts.append(args[0]))
    app = create_app(settings, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://llmref.test") as http:
            await app.state.hub.ready()
            statements.clear()  # count the request's statements, not the start-up's
            checkouts.clear()
            body = (await http.post("/graphql", json={"query": query})).json()
    return list(statements), len(checkouts), body


@pytest.mark.parametrize("count", [5, 50])
async def test_statement_count_does_not_grow_with_models(
    sessions: sessionmaker[Session], settings: Settings, count: int
) -> None:
    _add_catalog(sessions, count)
    statements, body = await _count_statements(settings)
    edges = body["data"]["models"]["edges"]
    assert len(edges) == count
    assert all(len(edge["node"]["offerings"]) == 2 for edge in edges)
    assert edges[0]["node"]["cheapestOffering"] == {"provider": {"slug": "p0"}}
    assert edges[0]["node"]["offerings"][0]["price"]["tiers"] == [{"minInputTokens": 200000}]
    # page + count, then one batch each: creators, offerings, providers, current prices
    assert statements == 6


async def test_the_pages_statements_read_the_same_whatever_the_number_of_keys(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """On PostgreSQL a batch's keys go in one array parameter (`= ANY`), so the statements
    of a page of 5 models and of 50 are the same text (parsed, prepared once)."""
    if settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite has no arrays: its batches list the keys (IN)")
    _add_catalog(sessions, 50)
    five, _checkouts, _body = await _count(settings, QUERY.replace("first: 50", "first: 5"))
    fifty, _checkouts, _body = await _count(settings, QUERY)
    assert sorted(five) == sorted(fifty)
    assert sum("= ANY (" in statement for statement in fifty) == 4


ROUTES_ONLY = "{ models(first: 50) { edges { node { offerings { providerModelId } } } } }"
THROUGH_FRAGMENTS = """{ models(first: 50) { edges { node { ...Routes } } } }
fragment Routes on Model { offerings { ... on Offering { price { inputPerMTok } } } }"""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # page + count + offerings: the models' page loads no providers or prices unasked
        (ROUTES_ONLY, 3),
        # + prices, found through a fragment spread and an inline fragment
        (THROUGH_FRAGMENTS, 4),
    ],
)
async def test_the_page_loads_what_its_offerings_are_asked_for(
    sessions: sessionmaker[Session], settings: Settings, query: str, expected: int
) -> None:
    _add_catalog(sessions, 5)
    statements, body = await _count_statements(settings, query)
    assert "errors" not in body, body
    offerings = [edge["node"]["offerings"] for edge in body["data"]["models"]["edges"]]
    assert len(offerings) == 5 and all(len(routes) == 2 for routes in offerings)
    assert statements == expected
    if query == THROUGH_FRAGMENTS:
        assert [route["price"]["inputPerMTok"] for route in offerings[0]] == ["1", "2"]


COMPARISON = """{ comparison(models: ["m000", "m001"]) { ... on Comparison {
  models { slug } monthlyCosts { offering { providerModelId provider { slug } } }
  switchFriction { sharedProviders { slug } } related { models { slug } } } } }"""


async def test_a_cold_comparison_reads_each_row_once(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """The rows the comparison's facts were built from (models, routes, providers, the
    creator's other models) answer the fields resolved afterwards: no second read."""
    _add_catalog(sessions, 3)
    with sessions.begin() as session:  # m002 becomes m000's sibling: a related comparison
        models = {m.slug: m for m in session.query(LlmModel)}
        models["m002"].creator_id = models["m000"].creator_id
    statements, checkouts, body = await _count(settings, COMPARISON)
    assert "errors" not in body, body
    comparison = body["data"]["comparison"]
    assert [m["slug"] for m in comparison["models"]] == ["m000", "m001"]
    assert {c["offering"]["provider"]["slug"] for c in comparison["monthlyCosts"]} == {"p0"}
    assert comparison["switchFriction"][0]["sharedProviders"] == [{"slug": "p0"}, {"slug": "p1"}]
    assert [[m["slug"] for m in link["models"]] for link in comparison["related"]] == [
        ["m002", "m001"]
    ]
    # the models named (by slug or alias, one statement); then routes, creators, scores,
    # last reviewed and the ranking columns of the creators' other models; then prices,
    # providers (no scores here, so no benchmarks) and the rows of the models linked.
    # Nothing by offering id, model id or provider slug afterwards.
    assert len(statements) == 9
    # all of them in one session, one after the other: one connection checkout (one
    # pre-ping, BEGIN and ROLLBACK), not one per batch
    assert checkouts == 1


async def test_a_cold_comparison_builds_rows_of_the_models_it_shows_only(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """A creator's other models are ranked for related comparisons from a few columns:
    of the four siblings of m000, only the two linked become model objects."""
    _add_catalog(sessions, 6)
    with sessions.begin() as session:
        models = {m.slug: m for m in session.query(LlmModel)}
        for slug in ("m002", "m003", "m004", "m005"):
            models[slug].creator_id = models["m000"].creator_id
    loaded: list[str] = []

    def on_load(target: LlmModel, _context: object) -> None:
        loaded.append(target.slug)

    event.listen(LlmModel, "load", on_load)
    try:
        _statements, body = await _count_statements(settings, COMPARISON)
    finally:
        event.remove(LlmModel, "load", on_load)
    assert "errors" not in body, body
    related = [
        [m["slug"] for m in link["models"]] for link in body["data"]["comparison"]["related"]
    ]
    assert len(related) == 2
    assert sorted(loaded) == sorted({"m000", "m001", *(slug for link in related for slug in link)})
