"""Time executed reads in process: graphql-core's executor against the schema's own.

Usage: .venv/bin/python bench/execution.py [--database-url URL] [--requests 40] [--rounds 5]

Without --database-url it builds a fresh PostgreSQL database with the offline catalog
(bench/comparison.py). One app in process (no Redis: the response cache is off), driven
over ASGI by httpx, so each timing is a whole request: parsing, validation, execution,
the SQL statements and the JSON answer. Two cases, both with `Cache-Control: no-cache`:
(b) `models(first: 50)` with offerings and prices (bench/models_query.graphql) and (c) the
cold comparison (bench/comparison_query.graphql). In each round every case runs
--requests times with graphql-core's executor (Strawberry's
StrawberryGraphQLCoreExecutionContext, what the schema used before api/graphql/execution.py)
and then with the schema's own, back to back; the report gives the median over rounds of
each round's mean milliseconds per request (wall time, and this process's CPU time, which
other load on a shared machine moves less), and checks that both answer the same bytes (but the comparison's generatedAt).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.app import create_app
from bench.comparison import offline_catalog_database
from bench.harness import comparison_body, models_body
from schema.settings import Settings

CASES = {"(b) models(first: 50)": models_body(), "(c) cold comparison": comparison_body()}
HEADERS = {"content-type": "application/json", "cache-control": "no-cache"}


async def timed(http: httpx.AsyncClient, body: str, requests: int) -> tuple[float, float, bytes]:
    """Mean wall and CPU milliseconds per request, and the last answer."""
    content = b""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        response = await http.post("/graphql", content=body, headers=HEADERS)
        assert response.status_code == 200 and b'"errors"' not in response.content, response.text
        content = response.content
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall * 1000 / requests, cpu * 1000 / requests, content


async def run(database_url: str, requests: int, rounds: int) -> None:
    settings = Settings(database_url=database_url, run_feeds=False, event_poll_seconds=3600)
    app = create_app(settings)
    schema = app.routes[0].endpoint.view.schema  # type: ignore[attr-defined]
    executors: dict[str, Any] = {
        "graphql-core": StrawberryGraphQLCoreExecutionContext,
        "llmref": schema.execution_context_class,
    }
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://llmref.test") as http:
            for body in CASES.values():  # warm up: connections, documents, code paths
                for executor in executors.values():
                    schema.execution_context_class = executor
                    await timed(http, body, 3)
            for round_number in range(1, rounds + 1):
                for case, body in CASES.items():
                    answers = set()
                    for name, executor in executors.items():
                        schema.execution_context_class = executor
                        wall, cpu, answer = await timed(http, body, requests)
                        answers.add(re.sub(rb'"generatedAt":"[^"]*"', b"", answer))
                        results.setdefault((case, name), []).append((wall, cpu))
                        print(
                            f"round {round_number} {case} {name}: {wall:.1f} ms, cpu {cpu:.1f} ms",
                            file=sys.stderr,
                        )
                    assert len(answers) == 1, f"{case}: the executors answer differently"
    print(f"{requests} requests a case and executor a round, {rounds} rounds; medians (ms/request)")
    print(f"{'case':24} {'executor':13} {'wall':>7} {'cpu':>7} {'req/s (cpu)':>12}")
    for (case, name), rows in results.items():
        wall = statistics.median(row[0] for row in rows)
        cpu = statistics.median(row[1] for row in rows)
        print(f"{case:24} {name:13} {wall:7.1f} {cpu:7.1f} {1000 / cpu:12.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with ExitStack() as stack:
        url = args.database_url or stack.enter_context(offline_catalog_database())
        asyncio.run(run(url, args.requests, args.rounds))


if __name__ == "__main__":
    main()
