"""bench/scale.py at a factor of 2 on the curated catalog: what the generator promises."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bench.scale import COPIES, load_real_catalog, multiply
from schema.catalog.importer import import_curated
from schema.db.engine import make_engine, make_sessionmaker
from tests.conftest import app_settings, asgi_client, graphql

COMPARE = """query ($models: [String!]!) { comparison(models: $models) {
    ... on Comparison { models { slug } monthlyCosts { available monthlyUsd } }
    ... on ComparisonError { code message } } }"""


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = {
            table: connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0  # noqa: S608
            for table in COPIES
        }
    engine.dispose()
    return found


async def test_a_factor_of_2_doubles_the_catalog_and_adds_history(
    empty_postgres_url: str,
) -> None:
    url = empty_postgres_url
    engine = make_engine(url)
    import_curated(make_sessionmaker(engine))
    real = counts(url)

    doubled = multiply(url, factor=2, history=real["prices"] * 2 + 500)

    assert {table: doubled[table] for table in COPIES if table != "prices"} == {
        table: real[table] * 2 for table in COPIES if table != "prices"
    }
    assert 2 * real["prices"] + 250 < doubled["prices"] < 2 * real["prices"] + 1000
    with engine.connect() as connection:
        q = lambda sql: connection.execute(text(sql)).all()  # noqa: E731
        # every synthetic model has the suffix, its copy's creator and routes to its copy's providers
        assert (
            q(
                "SELECT m.slug FROM llm_models m LEFT JOIN organizations o ON o.id = m.creator_id "
                "WHERE m.slug LIKE '%-s00001' AND m.creator_id IS NOT NULL "
                "AND o.slug NOT LIKE '%-s00001'"
            )
            == []
        )
        assert (
            q(
                "SELECT o.id FROM offerings o JOIN llm_models m ON m.id = o.model_id "
                "JOIN providers p ON p.id = o.provider_id "
                "WHERE (m.slug LIKE '%-s00001') <> (p.slug LIKE '%-s00001')"
            )
            == []
        )
        # rows a source owns are the synthetic source's: a real feed's ingest never touches them
        assert q(
            "SELECT DISTINCT a.source FROM model_aliases a JOIN llm_models m ON m.id = a.model_id "
            "WHERE m.slug LIKE '%-s00001'"
        ) == [("synthetic-curated",)]
        # each synthetic route's resolved history is one unbroken timeline ending in force now
        assert (
            q(
                "SELECT offering_id FROM (SELECT offering_id, effective_to, "
                "lead(effective_from) OVER (PARTITION BY offering_id ORDER BY effective_from) AS nxt "
                "FROM prices WHERE offering_id > (SELECT min(id) FROM offerings o "
                "WHERE o.provider_model_id LIKE '%-s00001')) t "
                "WHERE nxt IS NOT NULL AND effective_to IS DISTINCT FROM nxt"
            )
            == []
        )
        older = q(
            "SELECT count(*) FROM prices WHERE effective_from < TIMESTAMPTZ '2026-01-01' "
            "AND effective_to IS NOT NULL"
        )
        assert older[0][0] > 200
    engine.dispose()

    async with asgi_client(app_settings(url)) as client:
        copy = await graphql(client, COMPARE, {"models": ["glm-4v-9b-s00001", "qwen3.5-4b-s00001"]})
        real_pair = await graphql(client, COMPARE, {"models": ["glm-4v-9b", "qwen3.5-4b"]})
    compared = copy["data"]["comparison"]  # type: ignore[index]
    assert [model["slug"] for model in compared["models"]] == [
        "glm-4v-9b-s00001",
        "qwen3.5-4b-s00001",
    ], copy
    # the copy's prices in force are the real ones: the same monthly costs
    assert compared["monthlyCosts"] == real_pair["data"]["comparison"]["monthlyCosts"]  # type: ignore[index]
    assert compared["monthlyCosts"][0]["monthlyUsd"] is not None, copy

    with pytest.raises(SystemExit, match="already holds"):
        load_real_catalog(url)
