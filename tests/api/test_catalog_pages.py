"""A `models` page's rows are kept in the API process: the page is executed again without
reading the database while the catalog generation stays and its prices stay in force,
and read again after either moves; pages ordered or filtered by price, and requests
asking for no-cache, always read the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from schema.events import publisher
from schema.models import LlmModel, Offering, Price
from schema.settings import Settings
from tests.api.served import App, served_app
from tests.api.test_query_count import _add_catalog

PAGE = """{ models(first: 50) { totalCount edges { node { slug
  offerings { provider { slug } price { inputPerMTok effectiveFrom } } } } } }"""
SLUGS = "{ models(first: 50) { edges { node { slug } } } }"
CHEAPEST = "{ models(first: 50, orderBy: CHEAPEST_OUTPUT_PRICE) { edges { node { slug } } } }"
KEYED = {"Authorization": "Bearer llmref_abcdefgh_client"}
"""A caller with a key: never answered from the response cache, so every request executes
(the key is looked up only by ops fields, and none is asked here)."""
START = datetime(2026, 6, 1, tzinfo=UTC)


async def _data(app: App, query: str, **headers: str) -> dict[str, Any]:
    """The data of ``query`` asked by a caller with a key."""
    response = await app.post({"query": query}, **KEYED, **headers)
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


@pytest.fixture
async def served(
    settings: Settings, redis_url: str, sessions: sessionmaker[Session]
) -> AsyncIterator[App]:
    _add_catalog(sessions, 5)
    async for running in served_app(settings.model_copy(update={"redis_url": redis_url})):
        running.clock.now = START
        yield running


def _input_prices(data: dict[str, Any]) -> list[str]:
    return [
        offering["price"]["inputPerMTok"]
        for edge in data["models"]["edges"]
        for offering in edge["node"]["offerings"]
    ]


async def test_a_kept_page_executes_again_without_reading_the_database(served: App) -> None:
    first = await _data(served, PAGE)
    # count, page, offerings, providers, prices in force, and their next scheduled change
    assert len(served.statements) == 6
    assert first["models"]["totalCount"] == 5
    assert _input_prices(first) == ["1", "2"] * 5
    assert await _data(served, PAGE) == first
    assert served.statements == []
    # another selection of the same page: the same rows
    slugs = await _data(served, SLUGS)
    assert served.statements == []
    assert [edge["node"]["slug"] for edge in slugs["models"]["edges"]] == [
        f"m{index:03}" for index in range(5)
    ]


async def test_a_page_first_read_without_its_offerings_reads_them_once_asked(
    served: App,
) -> None:
    await _data(served, SLUGS)
    assert len(served.statements) == 2  # count and page: no offerings unasked
    await _data(served, PAGE)
    assert len(served.statements) == 4  # the routes, once
    await _data(served, PAGE)
    assert served.statements == []


async def test_no_cache_reads_the_database_every_time(served: App) -> None:
    await _data(served, PAGE)
    for _ in range(2):
        await _data(served, PAGE, **{"Cache-Control": "no-cache"})
        assert len(served.statements) == 5  # as without kept pages: no next-change read


async def test_a_page_is_read_again_after_the_catalog_generation_moves(
    served: App, sessions: sessionmaker[Session], redis_url: str
) -> None:
    assert _input_prices(await _data(served, PAGE))[0] == "1"
    with sessions.begin() as session:
        model = session.scalars(select(LlmModel).where(LlmModel.slug == "m000")).one()
        offering_ids = select(Offering.id).where(Offering.model_id == model.id)
        session.execute(
            update(Price)
            .where(Price.offering_id.in_(offering_ids))
            .values(input_per_mtok=Decimal(7))
        )
    # written without an ingest: no generation moved, so the kept rows still answer
    assert _input_prices(await _data(served, PAGE))[0] == "1"
    assert served.statements == []
    publisher(sessions, redis_url=redis_url, now=served.clock)([model.id])
    assert _input_prices(await _data(served, PAGE))[:2] == ["7", "7"]
    assert len(served.statements) == 6


async def test_a_scheduled_price_shows_from_its_start_without_an_ingest(
    served: App, sessions: sessionmaker[Session]
) -> None:
    starts = START + timedelta(hours=1)
    with sessions.begin() as session:
        price = session.scalars(select(Price).order_by(Price.id).limit(1)).one()
        price.effective_to = starts
        session.add(
            Price(
                offering_id=price.offering_id,
                source="curated",
                effective_from=starts,
                input_per_mtok=Decimal("0.5"),
                output_per_mtok=Decimal(2),
            )
        )
    assert _input_prices(await _data(served, PAGE))[0] == "1"
    served.clock.now = starts - timedelta(seconds=1)
    assert _input_prices(await _data(served, PAGE))[0] == "1"
    assert served.statements == []
    served.clock.now = starts
    data = await _data(served, PAGE)
    assert _input_prices(data)[0] == "0.5"
    assert data["models"]["edges"][0]["node"]["offerings"][0]["price"]["effectiveFrom"] == (
        "2026-06-01T01:00:00+00:00"
    )
    assert len(served.statements) == 4  # the routes again, not the page
    await _data(served, PAGE)
    assert served.statements == []


async def test_pages_ordered_by_price_are_read_every_time(served: App) -> None:
    for _ in range(2):
        await _data(served, CHEAPEST)
        assert len(served.statements) == 2


async def test_the_least_recently_used_pages_go_first_beyond_the_rows_kept(
    settings: Settings, redis_url: str, sessions: sessionmaker[Session]
) -> None:
    _add_catalog(sessions, 5)
    few_rows = settings.model_copy(update={"redis_url": redis_url, "page_cache_rows": 6})
    async for served in served_app(few_rows):
        other = SLUGS.replace("first: 50", "first: 2")
        # 5 models, then 2 more (too many: the 5 go), then the 5 again (the 2 go), then
        # the routes of those 5 (22 rows: the page goes once they are read)
        steps = ((SLUGS, 2), (SLUGS, 0), (other, 2), (SLUGS, 2), (PAGE, 4), (PAGE, 6))
        for query, statements in steps:
            await _data(served, query)
            assert len(served.statements) == statements, query
