"""Production mode switches, /metrics and the rate limits (in process; tests/e2e/
test_production.py runs the same against `llmref serve`)."""

from __future__ import annotations

import json
import logging
import random
import re
import sys

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.logs import JsonFormatter, new_request_id
from api.metrics import MAX_OPERATION_NAMES, Metrics, latency_histogram
from api.ratelimit import RateLimiter
from schema.catalog.importer import import_curated
from schema.models import FeedRun, FeedSource
from schema.settings import Settings
from tests.conftest import app_settings, asgi_client, graphql
from tests.e2e.live import redis_database

INTROSPECTION = "{ __schema { queryType { name } } }"
RESYNC = 'mutation { resyncFeed(source: "litellm") { run { id } } }'


@pytest.mark.parametrize(
    ("overrides", "introspection", "graphiql"),
    [
        ({}, True, True),
        ({"env": "production"}, False, False),
        ({"env": "production", "introspection": True}, True, False),
        ({"env": "production", "graphiql": True}, False, True),
        ({"introspection": False, "graphiql": False}, False, False),
    ],
)
async def test_introspection_and_graphiql_follow_the_settings(
    database_urls: dict[str, str], overrides: dict[str, object], introspection: bool, graphiql: bool
) -> None:
    async with asgi_client(app_settings(database_urls["sqlite"], **overrides)) as http:
        body = await graphql(http, INTROSPECTION)
        page = await http.get("/graphql", headers={"accept": "text/html"})
    if introspection:
        assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    else:
        assert body["data"] is None
        assert "introspection has been disabled" in body["errors"][0]["message"]  # type: ignore[index]
    if graphiql:
        assert page.status_code == 200 and "graphiql" in page.text.lower()
    else:
        assert page.status_code == 404
        assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def _sample(text: str, name: str, **labels: str) -> float | None:
    rendered = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = "^" + re.escape(f"{name}{{{rendered}}}" if labels else name) + r" (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_the_latency_histogram_counts_each_request_in_every_bucket_at_or_above_it() -> None:
    metrics = Metrics()
    for seconds in (0.001, 0.005, 0.0051, 0.3, 45.0):  # 0.005 is a bound: it counts in le=0.005
        metrics.observe_request("Compare", "ok", seconds)
    text = "\n".join(latency_histogram(metrics))
    bucket = "llmref_graphql_request_seconds_bucket"
    labels = {"operation": "Compare", "cache": "miss"}
    expected = {"0.005": 2, "0.01": 3, "0.25": 3, "0.5": 4, "30.0": 4, "+Inf": 5}
    assert {le: _sample(text, bucket, **labels, le=le) for le in expected} == expected
    assert _sample(text, "llmref_graphql_request_seconds_count", **labels) == 5
    assert _sample(text, "llmref_graphql_request_seconds_sum", **labels) == pytest.approx(45.3111)


def test_operation_labels_are_bounded_and_only_well_formed_names() -> None:
    metrics = Metrics()
    assert metrics.operation_label(None) == metrics.operation_label("") == "anonymous"
    assert metrics.operation_label('Bad"name') == "other"
    names = [f"Page{number}" for number in range(MAX_OPERATION_NAMES + 5)]
    labels = [metrics.operation_label(name) for name in names]
    assert labels == names[:MAX_OPERATION_NAMES] + ["other"] * 5
    assert metrics.operation_label("Page0") == "Page0"  # a kept name stays its own label


async def test_metrics_count_requests_cache_feed_runs_and_subscriptions(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    import_curated(sessions)
    with sessions.begin() as session:
        source = session.scalar(select(FeedSource).where(FeedSource.slug == "litellm"))
        assert source is not None
        session.add(FeedRun(source_id=source.id, status="FAILED", error="gave up"))
    compare = 'query Compare { comparison(models: ["glm-4v-9b", "qwen3.5-4b"]) { __typename } }'
    async with asgi_client(settings) as http:
        for _ in range(2):
            assert "errors" not in await graphql(http, compare)
        await graphql(http, "query Broken { models(first: 1000) { totalCount } }")
        await http.post("/graphql", content=b"{", headers={"content-type": "application/json"})
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    total = "llmref_graphql_requests_total"
    miss = {"cache": "miss"}  # no Redis: no response cache, the view executes every request
    assert _sample(text, total, operation="Compare", outcome="ok", **miss) == 2
    assert _sample(text, total, operation="Broken", outcome="error", **miss) == 1
    assert _sample(text, total, operation="anonymous", outcome="rejected", **miss) == 1
    assert _sample(text, "llmref_graphql_request_seconds_count", operation="Compare", **miss) == 2
    bucket = "llmref_graphql_request_seconds_bucket"
    assert _sample(text, bucket, operation="Compare", **miss, le="+Inf") == 2
    assert _sample(text, "llmref_comparison_cache_requests_total", result="miss") == 1
    assert _sample(text, "llmref_comparison_cache_requests_total", result="hit") == 1
    assert _sample(text, "llmref_feed_runs", source="litellm", status="FAILED") == 1
    assert _sample(text, "llmref_open_subscriptions") == 0
    assert _sample(text, "llmref_events_published") is not None
    assert _sample(text, "llmref_event_hub_lag_events") == 0


async def test_mutations_over_the_limit_are_refused_with_retry_after(
    database_urls: dict[str, str],
) -> None:
    settings = app_settings(
        database_urls["sqlite"], rate_limit_mutations=2, rate_limit_window_seconds=3600
    )
    async with asgi_client(settings) as http:
        codes = []
        for _ in range(3):
            response = await http.post("/graphql", json={"query": RESYNC})
            codes.append(response.json()["errors"][0]["extensions"])
        queries = [await graphql(http, "{ __typename }") for _ in range(3)]
    assert [c["code"] for c in codes] == ["UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]
    assert 1 <= codes[2]["retryAfterSeconds"] <= 3600
    assert response.headers["retry-after"] == str(codes[2]["retryAfterSeconds"])
    assert all(body == {"data": {"__typename": "Query"}} for body in queries)  # not limited


async def test_redis_counts_are_shared_and_per_key_and_address() -> None:
    with redis_database(range(12, 16)) as url:
        await _shared_counts(url)


async def _shared_counts(url: str) -> None:
    start = random.uniform(1e9, 1e12)  # a window no other run uses (keys expire)
    limiters = [
        RateLimiter({"mutation": 2}, window_seconds=60, redis_url=url, clock=lambda: start)
        for _ in range(2)
    ]
    try:  # two API processes, one caller
        assert await limiters[0].retry_after("mutation", ["key:a", "addr:1"]) is None
        assert await limiters[1].retry_after("mutation", ["key:a", "addr:1"]) is None
        wait = await limiters[0].retry_after("mutation", ["key:a", "addr:2"])
        assert wait is not None and 1 <= wait <= 60  # key a is over, from any address
        assert await limiters[1].retry_after("mutation", ["key:b", "addr:3"]) is None
        assert (
            await limiters[1].retry_after("mutation", ["addr:1"]) is not None
        )  # address 1 is over
        assert await limiters[1].retry_after("subscription", ["addr:1"]) is None  # no limit set
    finally:
        for limiter in limiters:
            await limiter.close()


async def test_an_unreachable_redis_does_not_stop_mutations(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RateLimiter({"mutation": 1}, window_seconds=60, redis_url="redis://127.0.0.1:1/0")
    try:
        with caplog.at_level(logging.WARNING, logger="llmref.ratelimit"):
            assert await limiter.retry_after("mutation", ["addr:1"]) is None
            assert await limiter.retry_after("mutation", ["addr:1"]) is None
    finally:
        await limiter.close()
    assert "rate limits not applied" in caplog.text


def test_json_log_lines_carry_the_request_id() -> None:
    rid = new_request_id("req-42")
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "llmref.test", logging.ERROR, __file__, 1, "failed %s", ("here",), exc_info
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == rid == "req-42"
    assert entry["message"] == "failed here"
    assert entry["level"] == "ERROR"
    assert "ValueError: boom" in entry["exception"]


def test_production_defaults() -> None:
    production = Settings(env="production")
    assert not production.introspection_enabled
    assert not production.graphiql_enabled
    assert production.json_logs
    development = Settings()
    assert development.introspection_enabled and development.graphiql_enabled
    assert not development.json_logs
