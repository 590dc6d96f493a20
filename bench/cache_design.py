"""What a response-cache hit can cost, by design: the measurements behind api/response_cache.py.

Usage: .venv/bin/python bench/cache_design.py [--seconds 5] [--connections 16]

One uvicorn process serving a bare ASGI app that answers every POST with the same 6,829
bytes (the size of the comparison answer), after doing what a hit of each design needs:

  bytes only          nothing (the in-process lookup alone; no cross-process validation);
  GET generation      one Redis GET of the catalog generation per request;
  coalesced read      api.catalog_generation.CatalogGeneration (requests waiting at the same
                      moment share one GET sent after they arrived);
  GET bytes           one Redis GET of the 6.8 KB answer per request (bytes kept in Redis
                      only; a real design would still need to validate them);
  Starlette ceiling   bench/ceiling.py, a Starlette route returning the bytes.

Each is loaded with wrk on loopback (POST). Needs wrk and Redis on 127.0.0.1:6379 (uses
database 15).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import redis
from starlette.types import Receive, Scope, Send

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.catalog_generation import CatalogGeneration
from bench.comparison import BIN, serving, wrk
from schema.cache import CATALOG_GENERATION_KEY

REDIS_URL = "redis://127.0.0.1:6379/15"
BYTES_KEY = "llmref:bench:v1:answer"
BODY = b'{"data":' + b'"' + b"x" * 6818 + b'"}'
MODES = ["bytes only", "GET generation", "coalesced read", "GET bytes"]


def make_app(mode: str):  # type: ignore[no-untyped-def]
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    generation = CatalogGeneration(REDIS_URL)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        if mode == "GET generation":
            await client.get(CATALOG_GENERATION_KEY)
        elif mode == "coalesced read":
            await generation.read()
        elif mode == "GET bytes":
            await client.get(BYTES_KEY)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": BODY})

    return app


app = make_app(os.environ.get("LLMREF_CACHE_DESIGN_MODE", "bytes only"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    redis.Redis.from_url(REDIS_URL).set(BYTES_KEY, BODY)
    body = json.dumps({"query": "{ __typename }"})
    uvicorn = [str(BIN / "uvicorn"), "--no-access-log", "--log-level", "warning", "--port"]
    rows = []
    for mode in MODES:
        env = {"LLMREF_CACHE_DESIGN_MODE": mode}
        with serving([*uvicorn, "8811", "bench.cache_design:app"], env, 8811) as base:
            rows.append((mode, wrk(base, body, {}, args.seconds, args.connections)))
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as handle:
        handle.write(BODY)
    with serving(
        [*uvicorn, "8812", "bench.ceiling:app"], {"LLMREF_CEILING_BODY": handle.name}, 8812
    ) as base:
        rows.append(("Starlette ceiling", wrk(base, body, {}, args.seconds, args.connections)))
    os.unlink(handle.name)
    ceiling = float(rows[-1][1]["rps"])
    print(f"wrk -c{args.connections} -d{args.seconds}s; load average {os.getloadavg()[0]:.2f}")
    print(f"{'design':<20}{'req/s':>10}{'p50':>10}{'p99':>10}{'of ceiling':>12}")
    for mode, row in rows:
        share = float(row["rps"]) / ceiling
        print(f"{mode:<20}{row['rps']:>10}{row['p50']:>10}{row['p99']:>10}{share:>11.2f}x")


if __name__ == "__main__":
    main()
