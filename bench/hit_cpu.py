"""CPU per response-cache hit through the whole ASGI app, in process.

Usage: .venv/bin/python bench/hit_cpu.py [--tree DIR] [--batch 10] [--hits 3000] [--rounds 5]

No uvicorn and no sockets on the HTTP side, so what it measures is llmref's own work for a
cached answer (Starlette's stack, the response cache, the catalog-generation read from
Redis), not the server's. Requests go out ``--batch`` at a time (gathered): requests waiting
together share one generation read, so ``--batch 1`` pays a Redis round trip per hit.
CPU time (``time.process_time``) rather than wall time, so a busy machine disturbs it less.
``--tree`` imports llmref from another checkout (a git worktree of an older commit, say) to
compare two versions on the same machine. Needs Redis on 127.0.0.1:6379 (a free database
number of the tests' is used and flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUERY = "query Page($first: Int!) { models(first: $first) { edges { node { slug name } } } }"


async def measure(redis_url: str, batch: int, hits: int, rounds: int) -> list[float]:
    import orjson

    from api.app import create_app
    from schema.migrations import upgrade
    from schema.settings import Settings

    url = f"sqlite:///{tempfile.mkdtemp()}/hit_cpu.db"
    upgrade(url)
    app = create_app(Settings(database_url=url, redis_url=redis_url, run_feeds=False))
    # the comparison query's size, so hashing the body costs what it does in bench/harness.py
    padding = "#" * len((ROOT / "bench" / "comparison_query.graphql").read_text())
    body = orjson.dumps({"query": f"{QUERY}\n{padding}", "variables": {"first": 5}})
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def one() -> None:
        await app(dict(scope), receive, send)

    await one()  # executes and stores the answer
    figures = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(hits // batch):
            await asyncio.gather(*(one() for _ in range(batch)))
        figures.append((time.process_time() - started) / (hits // batch * batch) * 1e6)
    assert set(statuses) == {200}, statuses
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--hits", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    sys.path.insert(1, str(ROOT))
    from tests.e2e.live import redis_database

    with redis_database((1, 2, 3)) as redis_url:
        figures = asyncio.run(measure(redis_url, args.batch, args.hits, args.rounds))
    print(
        f"{args.tree}: batch {args.batch}: CPU per hit, us: "
        + " ".join(f"{figure:.1f}" for figure in figures)
        + f"; median {statistics.median(figures):.1f}"
    )


if __name__ == "__main__":
    main()
