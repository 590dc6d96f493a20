"""Cached comparisons are never stale after a price change, and Redis trouble never
reaches a client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from schema.catalog.importer import CURATED_PATH, import_curated
from schema.db.base import utcnow
from schema.events import publisher
from schema.settings import Settings
from tests.conftest import graphql
from tests.redis_server import private_redis

SHARED_REDIS_DB = "redis://127.0.0.1:6379/13"
COST = """{ comparison(models: ["glm-4v-9b", "qwen3.5-4b"]) {
  ... on Comparison { monthlyCosts { monthlyUsd } } } }"""


def _glm_cost(body: dict) -> str:  # type: ignore[type-arg]
    assert "errors" not in body, body
    return body["data"]["comparison"]["monthlyCosts"][0]["monthlyUsd"]  # type: ignore[no-any-return]


def reprice(tmp_path: Path, input_price: str, output_price: str) -> Path:
    data = yaml.safe_load(CURATED_PATH.read_text())
    price = data["models"][0]["offerings"][0]["price"]
    price["input_per_mtok"], price["output_per_mtok"] = input_price, output_price
    path = tmp_path / "curated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        yield http


async def test_the_next_comparison_after_an_ingest_shows_the_new_price(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    redis.Redis.from_url(SHARED_REDIS_DB).flushdb()
    settings = settings.model_copy(update={"redis_url": SHARED_REDIS_DB})
    publish = publisher(sessions, redis_url=SHARED_REDIS_DB, now=utcnow)
    import_curated(sessions, after_commit=publish)
    async for http in _client(settings):
        assert _glm_cost(await graphql(http, COST)) == "103.00"
        assert _glm_cost(await graphql(http, COST)) == "103.00"  # served from the cache
        cached = redis.Redis.from_url(SHARED_REDIS_DB).keys("llmref:comparison:v1:*")
        assert len(cached) == 1
        import_curated(sessions, reprice(tmp_path, "0.10", "0.50"), after_commit=publish)
        # 560M x 0.10 + 300M x 0.50 per 1M = 56 + 150
        assert _glm_cost(await graphql(http, COST)) == "206.00"


async def test_redis_stopped_means_answers_from_the_database(
    settings: Settings,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import_curated(sessions)
    with private_redis() as server:
        settings = settings.model_copy(update={"redis_url": server.url})
        async for http in _client(settings):
            assert _glm_cost(await graphql(http, COST)) == "103.00"
            server.stop()
            assert _glm_cost(await graphql(http, COST)) == "103.00"
            publish = publisher(sessions, redis_url=server.url, now=utcnow)
            import_curated(sessions, reprice(tmp_path, "0.10", "0.50"), after_commit=publish)
            assert _glm_cost(await graphql(http, COST)) == "206.00"
    assert "answering from the database" in caplog.text
    assert "the sweep will retry" in caplog.text
