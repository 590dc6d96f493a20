"""Where the CPU of an executed models(first: 50) page goes: the reads against the rest.

Usage: .venv/bin/python bench/models_page.py [--database-url URL] [--requests 150] [--rounds 3]

Without --database-url it builds a fresh PostgreSQL database with the offline catalog
(bench/comparison.py); the app gets a Redis database of its own. In each round, in one
process, the median CPU milliseconds of:

  request     the whole request over ASGI (bench/models_query.graphql, `Cache-Control:
              no-cache`): parsing, validation, the reads, building the objects, execution,
              JSON;
  kept        the same request by a caller with a key: executed (the response cache
              answers no caller with a key) on the page's rows kept in process
              (api/services/catalog_pages.py), without reading the database;
  reads       the reads of a page's first request as the `models` resolver makes them,
              without GraphQL: one shared session (`Loaders.sharing`), the count and the
              page, then the offerings, providers, prices in force and their next change
              through the request's loaders (six statements, SQLAlchemy over psycopg);
  psycopg     the first five of those statements' SQL sent with psycopg directly on one
              open connection (rows as tuples): what the database and driver cost by
              themselves, the floor of the reads.

The difference between `request` and `reads` is what the API spends above the data;
between `reads` and `psycopg`, what SQLAlchemy, the loaders and the value objects cost.
It also prints the memory one kept page holds (tracemalloc, after a collection).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app
from api.cli import tune_garbage_collection
from api.services.catalog_pages import ModelsPage, ModelsQuery, read_models_page, read_routes
from api.services.loaders import create_loaders
from bench.comparison import offline_catalog_database
from bench.harness import models_body
from schema.db.engine import make_async_engine, make_async_sessionmaker
from schema.settings import Settings
from tests.e2e.live import redis_database

HEADERS = {"content-type": "application/json", "cache-control": "no-cache"}
KEYED = {"content-type": "application/json", "authorization": "Bearer llmref_abcdefgh_bench"}
"""A caller with a key (none is looked up: the page has no ops fields)."""
FIRST_50 = ModelsQuery(order="NAME", offset=0, limit=50)

PSYCOPG_STATEMENTS = (
    ("SELECT count(*) FROM llm_models", None),
    ("SELECT * FROM llm_models ORDER BY lower(name), slug LIMIT 50", None),
    (
        "SELECT * FROM offerings WHERE model_id = ANY(%s) ORDER BY model_id, provider_id, region",
        "models",
    ),
    ("SELECT * FROM providers WHERE id = ANY(%s)", "providers"),
    (
        "SELECT offering_id, input_per_mtok, output_per_mtok, cached_input_per_mtok, tiers,"
        " source, effective_from, stated_at, confirmed_at, tiers_source FROM prices"
        " WHERE offering_id = ANY(%s) AND effective_from <= %s"
        " AND (effective_to IS NULL OR effective_to > %s)",
        "offerings",
    ),
)


async def cpu_ms(step: Callable[[], Awaitable[object]], times: int) -> float:
    """Median CPU milliseconds of ``step`` over ``times`` runs, after five to warm up."""
    samples = []
    for index in range(times + 5):
        started = time.process_time()
        await step()
        if index >= 5:
            samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples)


async def kept_bytes(read: Callable[[], Awaitable[ModelsPage]]) -> int:
    """What one page's kept rows hold in memory once its request's objects are gone."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    page = await read()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert page.routes is not None
    return held


async def run(database_url: str, redis_url: str, requests: int, rounds: int) -> None:
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        run_feeds=False,
        event_poll_seconds=3600,
    )
    app = create_app(settings)
    tune_garbage_collection()
    sessions = make_async_sessionmaker(make_async_engine(database_url))
    body = models_body()
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)

    async def reads() -> ModelsPage:
        now = datetime.now(UTC)
        loaders = create_loaders(sessions, now)
        async with loaders.sharing():
            page = await read_models_page(FIRST_50, loaders, now)
            page.routes = await read_routes(loaders, [row.id for row in page.rows], now)
        return page

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://llmref.test"
        ) as http,
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection,
    ):

        async def request() -> None:
            response = await http.post("/graphql", content=body, headers=HEADERS)
            assert response.status_code == 200 and b'"errors"' not in response.content

        async def kept() -> None:
            response = await http.post("/graphql", content=body, headers=KEYED)
            assert response.status_code == 200 and b'"errors"' not in response.content

        async def direct() -> None:
            now = datetime.now(UTC)
            keys: dict[str, list[int]] = {}
            for sql, key in PSYCOPG_STATEMENTS:
                parameters = [] if key is None else [keys[key]]
                if key == "offerings":
                    parameters += [now, now]
                cursor = await connection.execute(sql, parameters)
                rows = await cursor.fetchall()
                if sql.startswith("SELECT * FROM llm_models"):
                    keys["models"] = [row[0] for row in rows]
                elif sql.startswith("SELECT * FROM offerings"):
                    keys["offerings"] = [row[0] for row in rows]
                    keys["providers"] = sorted({row[2] for row in rows})

        print(f"one kept page holds {await kept_bytes(reads) / 1024:.0f} KiB")
        print(
            f"{'round':>5} {'request':>9} {'kept':>9} {'reads':>9} {'psycopg':>9}"
            "   (CPU ms, medians)"
        )
        for number in range(1, rounds + 1):
            steps = (request, kept, reads, direct)
            figures = [await cpu_ms(step, requests) for step in steps]
            print(f"{number:>5}" + "".join(f" {figure:9.2f}" for figure in figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with ExitStack() as stack:
        url = args.database_url or stack.enter_context(offline_catalog_database())
        redis_url = stack.enter_context(redis_database((15, 13)))
        asyncio.run(run(url, redis_url, args.requests, args.rounds))


if __name__ == "__main__":
    main()
