"""llmref against Apollo Server 5 on the same queries, same machine, same run.

Usage: .venv/bin/python bench/harness.py [--seconds 10] [--connections 16] [--rounds 2]

Needs wrk (`apt-get install wrk`), node 20+ and `npm ci` run once in bench/apollo.

Builds a fresh PostgreSQL database with the offline catalog and serves it with one uvicorn
worker (`llmref serve --no-access-log`, Redis on 127.0.0.1:6379). Exports from it, through
its own API, the comparison and the first 50 models, and starts Apollo Server 5
(bench/apollo/server.mjs) on the same SDL with resolvers returning those objects: once
executing every request, once with @apollo/server-plugin-response-cache on Redis (cache
hints from ApolloServerPluginCacheControl, defaultMaxAge 3600). A plain Starlette endpoint
returning the comparison's bytes under the same uvicorn is the ceiling. Then, in each
round, every case against every server, one after the other (wrk -t2 on loopback):

  (a) warm comparison: bench/comparison_query.graphql (every field of Comparison);
  (b) executed models(first: 50) with offerings and prices (bench/models_query.graphql),
      llmref called with a client key (`llmref apikey create --role client`), so its
      response cache is bypassed and every request is executed, on the page's rows kept
      in process (api/services/catalog_pages.py); and, as "(b) from the database",
      with `Cache-Control: no-cache`, which reads the page's rows on every request too;
  (c) cold comparison: llmref with `Cache-Control: no-cache` (no response cache, no
      comparison cache: names resolved, facts loaded, comparison resolved); Apollo
      executing. Also with one connection, for the latency of a single request.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.comparison import (
    BIN,
    MODELS,
    QUERY,
    offline_catalog_database,
    serving,
    wrk,
)
from tests.e2e.live import redis_database

ROOT = Path(__file__).resolve().parent.parent
APOLLO = ROOT / "bench" / "apollo"
MODELS_QUERY = (ROOT / "bench" / "models_query.graphql").read_text()
NO_CACHE = {"Cache-Control": "no-cache"}
WARM = "(a) warm comparison"
EXECUTED = "(b) executed models(first: 50)"
EXECUTED_READ = "(b) from the database"
COLD = "(c) cold comparison"
COLD_ONE = "(c) cold comparison, 1 connection"


def free_port() -> int:
    """A port nothing listens on now (the OS picks it), so that runs beside other
    benchmarks or test servers do not collide."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def comparison_body() -> str:
    return json.dumps({"query": QUERY, "variables": {"models": MODELS}})


def models_body() -> str:
    return json.dumps({"query": MODELS_QUERY, "variables": {"first": 50}})


def export(base: str, path: Path) -> bytes:
    """The SDL and what llmref answers, for Apollo's resolvers; the comparison's bytes."""
    post = {"headers": {"content-type": "application/json", **NO_CACHE}, "timeout": 60}
    answer = httpx.post(f"{base}/graphql", content=comparison_body(), **post)  # type: ignore[arg-type]
    comparison = answer.json()["data"]["comparison"]
    assert "verdict" in comparison, answer.text
    models = httpx.post(f"{base}/graphql", content=models_body(), **post).json()["data"]["models"]  # type: ignore[arg-type]
    assert len(models["edges"]) == 50
    data = {
        "sdl": (ROOT / "schema" / "schema.graphql").read_text(),
        "comparison": {"__typename": "Comparison", **comparison},
        "models": models,
    }
    path.write_text(json.dumps(data))
    return answer.content


def client_key(env: dict[str, str]) -> dict[str, str]:
    """The Authorization header of a new client key (llmref's own CLI creates it)."""
    created = subprocess.run(
        [str(BIN / "llmref"), "apikey", "create", "--name", "bench", "--role", "client"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return {"Authorization": f"Bearer {created.stdout.splitlines()[-1]}"}


@contextmanager
def apollo(data: Path, port: int, mode: str, redis_url: str) -> Iterator[str]:
    node = shutil.which("node")
    assert node, "node is not installed"
    command = [node, str(APOLLO / "server.mjs"), str(data), str(port), mode, redis_url]
    with serving(command, {}, port) as base:
        yield base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    assert (APOLLO / "node_modules").is_dir(), "run `npm ci` in bench/apollo first"

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        llmref_redis = stack.enter_context(redis_database((15, 13)))
        apollo_redis = stack.enter_context(redis_database((3, 2)))
        url = stack.enter_context(offline_catalog_database())
        env = {"LLMREF_DATABASE_URL": url, "LLMREF_REDIS_URL": llmref_redis}
        ports = {
            name: free_port() for name in ("llmref", "apollo", "apollo+redis cache", "ceiling")
        }
        serve = [str(BIN / "llmref"), "serve", "--no-access-log", "--port", str(ports["llmref"])]
        bases = {"llmref": stack.enter_context(serving(serve, env, ports["llmref"]))}
        data = scratch / "data.json"
        body_path = scratch / "comparison.json"
        body_path.write_bytes(export(bases["llmref"], data))
        bases["apollo"] = stack.enter_context(apollo(data, ports["apollo"], "execute", ""))
        bases["apollo+redis cache"] = stack.enter_context(
            apollo(data, ports["apollo+redis cache"], "redis-cache", apollo_redis)
        )
        ceiling = [str(BIN / "uvicorn"), "bench.ceiling:app", "--no-access-log", "--port"]
        bases["ceiling"] = stack.enter_context(
            serving(
                [*ceiling, str(ports["ceiling"]), "--log-level", "warning"],
                {"LLMREF_CEILING_BODY": str(body_path)},
                ports["ceiling"],
            )
        )
        everyone = ["llmref", "apollo+redis cache", "apollo", "ceiling"]
        keyed = client_key(env)
        cases = [
            (WARM, comparison_body(), {}, everyone, args.connections),
            (EXECUTED, models_body(), keyed, ["llmref", "apollo"], args.connections),
            (EXECUTED_READ, models_body(), NO_CACHE, ["llmref"], args.connections),
            (COLD, comparison_body(), NO_CACHE, ["llmref", "apollo"], args.connections),
            (COLD_ONE, comparison_body(), NO_CACHE, ["llmref", "apollo"], 1),
        ]
        results: dict[tuple[str, str], list[dict[str, str]]] = {}
        for round_number in range(1, args.rounds + 1):
            for name, body, headers, servers, connections in cases:
                for server in servers:
                    row = wrk(bases[server], body, headers, args.seconds, connections)
                    results.setdefault((name, server), []).append(row)
                    print(
                        f"round {round_number} {name} {server}: {row['rps']} req/s"
                        f" p50 {row['p50']} p99 {row['p99']} non-2xx {row['errors']}",
                        file=sys.stderr,
                    )
    report(results, args)


def report(results: dict[tuple[str, str], list[dict[str, str]]], args: argparse.Namespace) -> None:
    print(f"wrk -t2 -d{args.seconds}s; load average at the end {os.getloadavg()[0]:.2f}")
    print(
        f"{'case':<36}{'server':<20}{'round':>6}{'req/s':>10}{'p50':>10}{'p99':>10}{'non-2xx':>9}"
    )
    for (case, server), rows in results.items():
        for number, row in enumerate(rows, 1):
            print(
                f"{case:<36}{server:<20}{number:>6}{row['rps']:>10}{row['p50']:>10}"
                f"{row['p99']:>10}{row['errors']:>9}"
            )

    def rps(case: str, server: str) -> float:
        """The mean over rounds."""
        rows = results[(case, server)]
        return sum(float(row["rps"]) for row in rows) / len(rows)

    def ratio(case: str, over: str) -> str:
        return f"{rps(case, 'llmref') / rps(case, over):.2f}x"

    warm, executed, cold = WARM, EXECUTED, COLD
    print(
        f"warm comparison: {ratio(warm, 'apollo+redis cache')} Apollo+Redis cache (target 2x),"
        f" {ratio(warm, 'ceiling')} of the Starlette ceiling (target 0.6x),"
        f" {ratio(warm, 'apollo')} Apollo executing"
    )
    print(
        f"executed models(first: 50): {ratio(executed, 'apollo')} Apollo executing (target 0.5x);"
        f" from the database {rps(EXECUTED_READ, 'llmref') / rps(executed, 'apollo'):.2f}x"
    )
    single = [row["p50"] for row in results[(COLD_ONE, "llmref")]]
    print(
        f"cold comparison: {ratio(cold, 'apollo')} Apollo executing;"
        f" p50 with one connection {' / '.join(single)} (target 20 ms)"
    )


if __name__ == "__main__":
    main()
