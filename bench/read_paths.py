"""The two read paths in process, this tree against a git revision, A/B alternating.

Usage: .venv/bin/python bench/read_paths.py [--base main] [--requests 100] [--rounds 5]

Builds a fresh PostgreSQL database with the offline catalog, exports `--base` (git
archive) to a scratch folder, then in each round runs one worker process per tree, base
first, then this one (the app in process over ASGI, no Redis, no feed runs, the garbage
collector tuned as `llmref serve` tunes it). Each worker sends, after a warm-up,
`--requests` of each case with `Cache-Control: no-cache`:

  cold comparison: bench/comparison_query.graphql (names resolved, facts loaded,
      comparison resolved; no response cache, no comparison cache);
  models page: bench/models_query.graphql, models(first: 50) with offerings and prices.

and reports per request the median wall time and process CPU time; then, from ten more
requests in a second app under cProfile whose connections are traced: the Python
function calls (steady whatever the machine's load), the SQL statements, the connection
checkouts and the round trips to the server (statements, pre-pings, BEGINs, ROLLBACKs).
The table gives the median over rounds (and, for times, the best round: on a shared
machine the round least slowed by others); the answers of both trees are compared
(`generatedAt` aside).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COMPARISON = {
    "query": (ROOT / "bench" / "comparison_query.graphql").read_text(),
    "variables": {"models": ["glm-4v-9b", "qwen3.5-4b"]},
}
MODELS_PAGE = {
    "query": (ROOT / "bench" / "models_query.graphql").read_text(),
    "variables": {"first": 50},
}
CASES = {"cold comparison": COMPARISON, "models page": MODELS_PAGE}
CURRENT: list[str | None] = [None]
"""The case being sent, whose statements, checkouts and round trips are counted."""
FIGURES = ("wall ms", "cpu ms", "python calls", "statements", "checkouts", "round trips")


async def _serve(
    url: str, engine: Any, requests: int, warm_up: int, profile: cProfile.Profile | None = None
) -> dict[str, Any]:
    """`requests` of each case (after `warm_up` more): median wall and CPU ms, the answer;
    with `profile`, the Python function calls per request (a figure the machine's load
    does not move)."""
    import httpx

    from api.app import create_app
    from schema.settings import Settings

    settings = Settings(database_url=url, run_feeds=False, event_poll_seconds=3600)
    app = create_app(settings, engine=engine)
    results: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            headers = {"Cache-Control": "no-cache"}
            for name, body in CASES.items():
                for _ in range(warm_up):  # the pool's connections, statement caches
                    await http.post("/graphql", json=body, headers=headers)
                CURRENT[0] = name
                walls, cpus = [], []
                if profile is not None:
                    profile.enable()
                for _ in range(requests):
                    wall, cpu = time.perf_counter(), time.process_time()
                    response = await http.post("/graphql", json=body, headers=headers)
                    cpus.append(time.process_time() - cpu)
                    walls.append(time.perf_counter() - wall)
                    assert response.status_code == 200, response.text
                CURRENT[0] = None
                calls = 0
                if profile is not None:
                    profile.disable()
                    calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
                    profile.clear()
                answer = response.json()
                assert "errors" not in answer, answer
                answer["data"].get("comparison", {}).pop("generatedAt", None)
                results[name] = {
                    "wall ms": statistics.median(walls) * 1000,
                    "cpu ms": statistics.median(cpus) * 1000,
                    "python calls": calls / requests,
                    "answer": answer["data"],
                }
    return results


async def _measure(url: str, requests: int) -> dict[str, Any]:
    """In a worker (the app of the tree first on sys.path): the timings, then the counts
    in a second app whose connections trace what they send (libpq trace: one
    ReadyForQuery from the server per round trip)."""
    import psycopg
    from sqlalchemy import event

    from schema.db.engine import make_async_engine

    results = await _serve(url, make_async_engine(url), requests, max(5, requests // 10))
    engine = make_async_engine(url)
    counts = {name: dict.fromkeys(("statements", "checkouts", "round trips"), 0) for name in CASES}
    with tempfile.TemporaryFile("w+") as trace:

        def count(figure: str) -> Callable[..., None]:
            def counted(*_args: Any) -> None:
                if CURRENT[0] is not None:
                    counts[CURRENT[0]][figure] += 1

            return counted

        def traced(dbapi_connection: Any, _record: Any) -> None:
            pgconn = dbapi_connection.driver_connection.pgconn
            pgconn.trace(trace.fileno())
            pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

        def round_trips(*_args: Any) -> None:
            trace.seek(0)
            if CURRENT[0] is not None:
                lines = trace.read().splitlines()
                counts[CURRENT[0]]["round trips"] += sum(
                    line.startswith("B\t5\tReadyForQuery") for line in lines
                )
            trace.seek(0)
            trace.truncate()

        event.listen(engine.sync_engine, "connect", traced)
        event.listen(engine.sync_engine, "before_cursor_execute", count("statements"))
        event.listen(engine.sync_engine.pool, "checkout", count("checkouts"))
        event.listen(engine.sync_engine.pool, "checkin", round_trips)
        counted_requests = 10
        counted = await _serve(url, engine, counted_requests, 3, cProfile.Profile())
    for name, figures in counts.items():
        results[name].update({key: value / counted_requests for key, value in figures.items()})
        results[name]["python calls"] = counted[name]["python calls"]
    return results


def _worker(tree: str, url: str, requests: int) -> None:
    sys.path.insert(0, tree)
    from api.cli import tune_garbage_collection

    tune_garbage_collection()  # as `llmref serve` does
    print(json.dumps(asyncio.run(_measure(url, requests))))


def _run_worker(tree: Path, url: str, requests: int) -> dict[str, Any]:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            str(tree),
            "--url",
            url,
            "--requests",
            str(requests),
        ],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
    ).stdout
    return dict(json.loads(output.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="git revision to compare against")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.url, args.requests)
        return

    sys.path.insert(0, str(ROOT))
    from bench.comparison import offline_catalog_database

    with tempfile.TemporaryDirectory() as scratch, offline_catalog_database() as url:
        base = Path(scratch) / "base"
        base.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.base], cwd=ROOT, capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(base, filter="data")
        trees = {f"base ({args.base})": base, "this tree": ROOT}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        for round_number in range(1, args.rounds + 1):
            for name, tree in trees.items():
                result = _run_worker(tree, url, args.requests)
                runs[name].append(result)
                print(
                    f"round {round_number} {name}: "
                    + "; ".join(
                        f"{case} {figures['wall ms']:.2f} ms wall {figures['cpu ms']:.2f} ms cpu"
                        for case, figures in result.items()
                    ),
                    file=sys.stderr,
                )
    base_name, this_name = trees
    print(
        f"{args.requests} requests per case per round, {args.rounds} rounds;"
        " median of rounds (best: the least loaded round)"
    )
    print(f"{'case':<18}{'figure':<14}{base_name:>16}{this_name:>16}{'change':>9}")
    for case in CASES:
        rows = [(figure, figure, statistics.median) for figure in FIGURES]
        rows[2:2] = [(f"{figure}, best", figure, min) for figure in ("wall ms", "cpu ms")]
        for label, figure, of_rounds in rows:
            before = of_rounds(run[case][figure] for run in runs[base_name])
            after = of_rounds(run[case][figure] for run in runs[this_name])
            change = f"{after / before - 1:+.0%}" if before else ""
            print(f"{case:<18}{label:<14}{before:>16.2f}{after:>16.2f}{change:>9}")
        same = runs[base_name][-1][case]["answer"] == runs[this_name][-1][case]["answer"]
        print(f"{case:<18}{'same answer':<14}{'':>16}{same!s:>16}")


if __name__ == "__main__":
    main()
