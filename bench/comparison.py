"""Load-test the full comparison query: cold (cache bypassed), warm (cache hit), ceiling.

Usage: .venv/bin/python bench/comparison.py [--seconds 10] [--connections 16]

Builds a fresh PostgreSQL database with the offline catalog, serves it with one uvicorn
worker (`llmref serve`, comparison cache in Redis on 127.0.0.1:6379 db 15), and drives it
with wrk on loopback: the whole-page query for glm-4v-9b vs qwen3.5-4b, first with
`Cache-Control: no-cache` (every request resolves from the database), then warm. The
ceiling is a plain Starlette endpoint under the same uvicorn returning the same bytes.
Needs wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import scratch_postgres
from schema.catalog.importer import import_curated
from schema.db.engine import make_engine, make_sessionmaker
from schema.ingest.offline import import_offline_catalog
from schema.migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUERY = (ROOT / "bench" / "comparison_query.graphql").read_text()
MODELS = ["glm-4v-9b", "qwen3.5-4b"]
REDIS_URL = "redis://127.0.0.1:6379/15"


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def offline_catalog_database() -> Iterator[str]:
    """A scratch PostgreSQL database, migrated, with the offline catalog; its URL."""
    with scratch_postgres() as url:
        upgrade(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        import_curated(sessions)
        import_offline_catalog(sessions)
        engine.dispose()
        yield url


def wrk(
    base: str, body: str, headers: dict[str, str], seconds: int, connections: int
) -> dict[str, str]:
    script = "\n".join(
        [
            'wrk.method = "POST"',
            f"wrk.body = {json.dumps(body)}",
            'wrk.headers["Content-Type"] = "application/json"',
        ]
        + [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            handle.name,
            f"{base}/graphql",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(handle.name)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": re.search(r"Requests/sec:\s+(\S+)", output).group(1),  # type: ignore[union-attr]
        "p50": latency.get("50", "?"),
        "p99": latency.get("99", "?"),
        "errors": non_2xx.group(1) if non_2xx else "0",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    body = json.dumps({"query": QUERY, "variables": {"models": MODELS}})
    with offline_catalog_database() as url:
        env = {"LLMREF_DATABASE_URL": url, "LLMREF_REDIS_URL": REDIS_URL}
        rows = []
        with serving([str(BIN / "llmref"), "serve", "--port", "8791"], env, 8791) as base:
            answer = httpx.post(
                f"{base}/graphql", content=body, headers={"content-type": "application/json"}
            )
            assert "verdict" in answer.text, answer.text
            rows.append(
                (
                    "cold (no-cache)",
                    wrk(base, body, {"Cache-Control": "no-cache"}, args.seconds, args.connections),
                )
            )
            rows.append(("warm (cache hit)", wrk(base, body, {}, args.seconds, args.connections)))
        with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as handle:
            handle.write(answer.content)
        ceiling_cmd = [
            str(BIN / "uvicorn"),
            "bench.ceiling:app",
            "--port",
            "8792",
            "--log-level",
            "warning",
        ]
        with serving(ceiling_cmd, {"LLMREF_CEILING_BODY": handle.name}, 8792) as base:
            rows.append(
                ("ceiling (Starlette)", wrk(base, body, {}, args.seconds, args.connections))
            )
        os.unlink(handle.name)
    ceiling = float(rows[-1][1]["rps"])
    print(
        f"response body: {len(answer.content)} bytes; wrk -t2 -c{args.connections} -d{args.seconds}s"
    )
    print(f"{'case':<22}{'req/s':>10}{'p50':>10}{'p99':>10}{'non-2xx':>9}{'of ceiling':>12}")
    for name, row in rows:
        share = float(row["rps"]) / ceiling
        print(
            f"{name:<22}{row['rps']:>10}{row['p50']:>10}{row['p99']:>10}{row['errors']:>9}{share:>11.0%}"
        )


if __name__ == "__main__":
    main()
