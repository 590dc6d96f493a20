"""Time executed reads in process: graphql-core's executor against the schema's own.

Usage: .venv/bin/python bench/execution.py [--database-url URL] [--requests 20] [--rounds 5]
                                           [--profile]

Without --database-url it builds a fresh PostgreSQL database with the offline catalog
(bench/comparison.py). One app in process (no Redis: the response cache is off), driven
over ASGI by httpx, so each timing is a whole request: parsing, validation, execution,
the SQL statements and the JSON answer. Two cases, both with `Cache-Control: no-cache`:
(b) `models(first: 50)` with offerings and prices (bench/models_query.graphql) and (c) the
cold comparison (bench/comparison_query.graphql). In each round every case runs
--requests times with graphql-core's executor (Strawberry's
StrawberryGraphQLCoreExecutionContext, what the schema used before api/graphql/execution.py)
and with the schema's own, alternating request by request so that both see the same load;
the report gives the median milliseconds per request (wall time, and this process's CPU
time, which other load on a shared machine moves less) and checks that both answer the same
bytes (but the comparison's generatedAt). With --profile it prints, instead, cProfile's
self time by layer over 20 models requests with each executor.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.app import create_app
from api.cli import tune_garbage_collection
from bench.comparison import offline_catalog_database
from bench.harness import comparison_body, models_body
from schema.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CASES = {"(b) models(first: 50)": models_body(), "(c) cold comparison": comparison_body()}
HEADERS = {"content-type": "application/json", "cache-control": "no-cache"}


async def timed(http: httpx.AsyncClient, body: str) -> tuple[float, float, bytes]:
    """Wall and CPU milliseconds of one request, and its answer."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = await http.post("/graphql", content=body, headers=HEADERS)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert response.status_code == 200 and b'"errors"' not in response.content, response.text
    return wall * 1000, cpu * 1000, response.content


LAYERS = (
    ("api/graphql/execution.py", "llmref's execution (api/graphql/execution.py)"),
    ("/graphql/", "graphql-core"),
    ("/strawberry/", "Strawberry"),
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/psycopg", "psycopg"),
    ("/asyncio/", "asyncio"),
    (str(ROOT / "api"), "llmref (api/, schema/)"),
    (str(ROOT / "schema"), "llmref (api/, schema/)"),
)


def self_time_by_layer(profile: cProfile.Profile) -> Counter[str]:
    """Seconds of self time per layer (the first of LAYERS whose text is in the file)."""
    layers: Counter[str] = Counter()
    for (filename, _line, _name), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        layer = next((name for text, name in LAYERS if text in filename), "other")
        layers["builtins (C functions)" if filename == "~" else layer] += row[2]
    return layers


async def profile_layers(http: httpx.AsyncClient, schema: Any, executors: dict[str, Any]) -> None:
    """cProfile's self time by layer for the models case with each executor (profiled
    times are inflated, more so for Python than for C code: compare the shares)."""
    body = CASES["(b) models(first: 50)"]
    for name, executor in executors.items():
        schema.execution_context_class = executor
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(20):
            await timed(http, body)
        profile.disable()
        layers = self_time_by_layer(profile)
        total = sum(layers.values())
        print(f"{name}: {total * 1000 / 20:.1f} ms/request under cProfile")
        for layer, seconds in layers.most_common():
            print(f"  {layer:48} {seconds / total:6.1%}")


async def run(database_url: str, requests: int, rounds: int, profile: bool) -> None:
    settings = Settings(database_url=database_url, run_feeds=False, event_poll_seconds=3600)
    app = create_app(settings)
    tune_garbage_collection()  # as `llmref serve` does once the app is built
    schema = app.routes[0].endpoint.view.schema  # type: ignore[attr-defined]
    executors: dict[str, Any] = {
        "graphql-core": StrawberryGraphQLCoreExecutionContext,
        "llmref": schema.execution_context_class,
    }
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://llmref.test") as http:
            if profile:
                await timed(http, CASES["(b) models(first: 50)"])
                await profile_layers(http, schema, executors)
                return
            for round_number in range(rounds + 1):  # round 0 warms up (not counted)
                for case, body in CASES.items():
                    answers = set()
                    for _ in range(requests):
                        for name, executor in executors.items():
                            schema.execution_context_class = executor
                            wall, cpu, answer = await timed(http, body)
                            answers.add(re.sub(rb'"generatedAt":"[^"]*"', b"", answer))
                            if round_number:
                                samples.setdefault((case, name), []).append((wall, cpu))
                    assert len(answers) == 1, f"{case}: the executors answer differently"
                print(f"round {round_number} done, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print(
        f"{rounds} rounds of {requests} requests a case and executor, alternating request by"
        f" request; medians (ms/request); load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'case':24} {'executor':13} {'wall':>7} {'cpu':>7} {'req/s (cpu)':>12}")
    for (case, name), rows in samples.items():
        wall = statistics.median(row[0] for row in rows)
        cpu = statistics.median(row[1] for row in rows)
        print(f"{case:24} {name:13} {wall:7.1f} {cpu:7.1f} {1000 / cpu:12.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--profile", action="store_true", help="self time by layer for the models case instead"
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        url = args.database_url or stack.enter_context(offline_catalog_database())
        asyncio.run(run(url, args.requests, args.rounds, args.profile))


if __name__ == "__main__":
    main()
