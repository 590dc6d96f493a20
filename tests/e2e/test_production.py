"""`llmref serve` with LLMREF_ENV=production behind a real uvicorn: no introspection or
GraphiQL, JSON log lines with request ids, /metrics, and rate limits in Redis for
mutations and new subscriptions (over a real graphql-transport-ws connection)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.live import SubscriptionEnded, TransportWS, redis_database
from tests.e2e.processes import llmref_serve

REDIS_DATABASES = (13, 14, 15, 12)
RESYNC = 'mutation { resyncFeed(source: "litellm") { run { id } } }'


@pytest.mark.timeout(120)
async def test_production_mode_served(tmp_path: Path) -> None:
    with redis_database(REDIS_DATABASES) as redis_url:
        env = {
            "LLMREF_ENV": "production",
            "LLMREF_DATABASE_URL": f"sqlite:///{tmp_path / 'llmref.db'}",
            "LLMREF_REDIS_URL": redis_url,
            "LLMREF_LOAD_CATALOG_ON_START": "false",
            "LLMREF_RATE_LIMIT_MUTATIONS": "2",
            "LLMREF_RATE_LIMIT_SUBSCRIPTIONS": "2",
        }
        with llmref_serve(tmp_path, env=env) as base:
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                introspection = (
                    await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
                ).json()
                ide = await http.get("/graphql", headers={"accept": "text/html"})
                expected = await http.post(
                    "/graphql",
                    json={"query": "{ models(first: 1000) { totalCount } }"},
                    headers={"x-request-id": "e2e-production-1"},
                )
                mutations = [await http.post("/graphql", json={"query": RESYNC}) for _ in range(3)]
                async with await TransportWS.open(base) as ws:
                    for _ in range(2):
                        await ws.price_changes()
                    metrics = await _metrics_once_subscribed(http, 2)
                    refused = await (await ws.price_changes()).ended(timeout=10)
    assert "introspection has been disabled" in introspection["errors"][0]["message"]
    assert ide.status_code == 404 and ide.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert expected.headers["x-request-id"] == "e2e-production-1"

    codes = [response.json()["errors"][0]["extensions"]["code"] for response in mutations]
    assert codes == ["UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]
    assert int(mutations[2].headers["retry-after"]) >= 1

    assert isinstance(refused, SubscriptionEnded) and refused.code == "RATE_LIMITED"
    assert refused.errors[0]["extensions"]["retryAfterSeconds"] >= 1
    assert "llmref_open_subscriptions 2\n" in metrics
    assert (
        'llmref_graphql_requests_total{operation="anonymous",outcome="error",cache="miss"}'
        in metrics
    )

    # The server runs in its own process: reading its log here blocks only the test.
    (log,) = tmp_path.glob("serve-*.log")  # noqa: ASYNC240
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    mine = [entry for entry in entries if entry["request_id"] == "e2e-production-1"]
    assert any("BAD_USER_INPUT" in entry["message"] for entry in mine), entries[-10:]
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)


async def _metrics_once_subscribed(http: httpx.AsyncClient, count: int) -> str:
    """/metrics once the server serves ``count`` subscriptions (they start concurrently)."""
    for _ in range(100):
        text = (await http.get("/metrics")).text
        if f"llmref_open_subscriptions {count}\n" in text:
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"never {count} open subscriptions: {text}")
