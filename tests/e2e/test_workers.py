"""The real pieces end to end: PostgreSQL, Redis, a Celery worker process and beat, the API
under uvicorn (`llmref serve` with Redis), and a local server playing the LiteLLM feed.

On a catalog holding models.dev's models, LiteLLM's recorded snapshot of 2026-07-01 and
then that of 2026-07-03 are served; `resyncFeed` through the API runs each on the worker.
The second run's events are the real differences between the two snapshots, published
once each on the Redis stream, listed in order by Query.priceChanges, and the cached
comparison of claude-sonnet-5 shows the new prices on the very next query. Beat then polls
the same content: the run ends UNCHANGED (a 304) with no event.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.feed_server import etag_of, read_payload
from tests.e2e.processes import (
    LITELLM_JULY_1,
    LITELLM_JULY_3,
    PRICE_CHANGES,
    Stack,
    api_event_signature,
    catalog_template,
    clean_apply,
    events_of_run,
    worker_stack,
)

COMPARISON = """query { comparison(models: ["claude-sonnet-5", "gpt-5"]) {
  ... on Comparison { key generatedAt
    monthlyCosts { model { slug } monthlyUsd offering { provider { slug } region } }
    models { slug offerings { provider { slug } region price { inputPerMTok outputPerMTok } } } }
  ... on ComparisonError { code message } } }"""


@pytest.fixture(scope="module")
def models_dev_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A template database holding models.dev's models, and an ops key in it."""
    with catalog_template(tmp_path_factory.mktemp("catalog")) as template:
        yield template


def _per_mtok(per_token: Any) -> Decimal | None:
    return None if per_token is None else Decimal(str(per_token)) * 1_000_000


def raw_differences(old: bytes, new: bytes) -> tuple[dict[str, tuple[Any, Any]], list[str]]:
    """Straight from the two payloads: the records whose (input, output) price per 1M
    tokens differs, with (before, after), and the keys only the newer one has."""
    before = json.loads(old, parse_float=Decimal)
    after = json.loads(new, parse_float=Decimal)

    def io(record: dict[str, Any]) -> tuple[Decimal | None, Decimal | None]:
        return (
            _per_mtok(record.get("input_cost_per_token")),
            _per_mtok(record.get("output_cost_per_token")),
        )

    changed = {
        key: (io(before[key]), io(record))
        for key, record in after.items()
        if key in before and isinstance(record, dict) and io(before[key]) != io(record)
    }
    added = [key for key in after if key not in before]
    return changed, added


def _route_price(comparison: dict[str, Any], model: str, provider: str) -> tuple[str, str]:
    [found] = [
        offering["price"]
        for item in comparison["models"]
        if item["slug"] == model
        for offering in item["offerings"]
        if offering["provider"]["slug"] == provider and offering["region"] is None
    ]
    return found["inputPerMTok"], found["outputPerMTok"]


def _cheapest_route(comparison: dict[str, Any], model: str) -> tuple[str, str]:
    [cost] = [c for c in comparison["monthlyCosts"] if c["model"]["slug"] == model]
    return cost["offering"]["provider"]["slug"], cost["monthlyUsd"]


def _last_event_id(stack: Stack) -> int:
    return int(stack.sql("SELECT coalesce(max(id), 0) FROM price_change_events")[0][0])


def _wait_for_new_run(stack: Stack, after_id: int, timeout: float = 45) -> int:
    deadline = time.monotonic() + timeout
    while True:
        rows = stack.sql("SELECT id FROM feed_runs WHERE id > :after ORDER BY id", after=after_id)
        if rows:
            return int(rows[0][0])
        if time.monotonic() > deadline:
            raise TimeoutError(f"beat queued no run:\n{stack.worker.log()[-3000:]}")
        time.sleep(0.2)


@pytest.mark.timeout(180)
def test_a_feed_change_reaches_the_stream_the_api_and_the_cached_comparison(
    tmp_path: Path, models_dev_catalog: tuple[str, str]
) -> None:
    template, ops_key = models_dev_catalog
    july_1, july_3 = read_payload(LITELLM_JULY_1), read_payload(LITELLM_JULY_3)
    expected = clean_apply(template, LITELLM_JULY_1, LITELLM_JULY_3)

    with worker_stack(tmp_path, template=template, ops_key=ops_key, beat=True) as stack:
        # LiteLLM's first snapshot on the models.dev catalog, through the API and the worker.
        stack.feed.serve(july_1)
        first = stack.wait_for_run(stack.resync())
        assert first["status"] == "SUCCEEDED", first
        first_events = events_of_run(stack.sessions, int(first["id"]))
        assert len(first_events) == first["added"] + first["changed"] + first["removed"]
        stack.wait_for_stream([event_id for event_id, _ in first_events])
        before_change = _last_event_id(stack)

        # The comparison is computed once, then served from the cache.
        cold = stack.graphql(COMPARISON)["comparison"]
        warm = stack.graphql(COMPARISON)["comparison"]
        assert warm == cold
        assert _route_price(cold, "claude-sonnet-5", "anthropic") == ("3", "15")
        assert _cheapest_route(cold, "claude-sonnet-5") == ("openrouter", "4120.00")

        # The next snapshot: LiteLLM cut claude-sonnet-5's prices and added three routes.
        stack.feed.serve(july_3)
        second = stack.wait_for_run(stack.resync())
        assert second["status"] == "SUCCEEDED", second
        assert (second["added"], second["changed"], second["removed"]) == (3, 9, 0)

        # Query.priceChanges lists the run's events in order: the real differences.
        listed = stack.graphql(PRICE_CHANGES, {"after": str(before_change)})["priceChanges"]
        in_database = events_of_run(stack.sessions, int(second["id"]))
        assert [int(event["id"]) for event in listed] == [event_id for event_id, _ in in_database]
        assert {event["feedRun"]["id"] for event in listed} == {second["id"]}
        signatures = [api_event_signature(event) for event in listed]
        assert signatures == [signature for _, signature in in_database]
        assert Counter(signatures) == Counter(expected)

        changed, added = raw_differences(july_1, july_3)
        changes = [s for s in signatures if s[0] == "CHANGED"]
        assert {s[1] for s in changes} == {"claude-sonnet-5"}
        assert all("claude-sonnet-5" in key for key in changed)
        assert {((s[4][0], s[4][1]), (s[5][0], s[5][1])) for s in changes} == set(  # type: ignore[index]
            changed.values()
        )
        additions = sorted(s[1] for s in signatures if s[0] == "ADDED")
        assert len(additions) == len(added) == 3
        assert all(any(model in key for key in added) for model in additions)

        # Once the events are on the stream (the cache generations were bumped before),
        # the cached comparison shows the new prices on the very next query.
        stack.wait_for_stream([event_id for event_id, _ in in_database])
        fresh = stack.graphql(COMPARISON)["comparison"]
        assert fresh["generatedAt"] != cold["generatedAt"]
        assert _route_price(fresh, "claude-sonnet-5", "anthropic") == ("2", "10")
        # The Anthropic-priced routes now tie with OpenRouter's; the tie goes by provider slug.
        assert _cheapest_route(fresh, "claude-sonnet-5") == ("amazon-bedrock", "4120.00")

        # Each event of the two runs is on the stream exactly once, the new ones in order.
        stream = stack.stream()
        on_stream = [int(fields["id"]) for _, fields in stream]
        runs_events = stack.sql(
            "SELECT id FROM price_change_events WHERE feed_run_id IN (:a, :b)",
            a=int(first["id"]),
            b=int(second["id"]),
        )
        assert Counter(on_stream) == Counter(row[0] for row in runs_events)
        assert set(Counter(on_stream).values()) == {1}
        assert [i for i in on_stream if i > before_change] == [i for i, _ in in_database]
        unpublished = "SELECT count(*) FROM price_change_events WHERE published_at IS NULL"
        assert stack.sql(unpublished) == [(0,)]
        by_id = {int(fields["id"]): fields for _, fields in stream}
        for event_id, (kind, model, provider, *_rest) in in_database:
            assert by_id[event_id] == {
                "id": str(event_id),
                "kind": kind,
                "model": model,
                "provider": provider,
            }

        # Beat polls the feed when it is due; the same content ends UNCHANGED, no event.
        stack.sql("UPDATE feed_sources SET next_due_at = now() WHERE slug = 'litellm'")
        third = stack.wait_for_run(_wait_for_new_run(stack, int(second["id"])))
        assert third["status"] == "UNCHANGED", third
        last_request = stack.feed.requests[-1]
        assert (last_request.if_none_match, last_request.status) == (etag_of(july_3), 304)
        assert stack.graphql(PRICE_CHANGES, {"after": str(in_database[-1][0])}) == {
            "priceChanges": []
        }
        assert len(stack.stream()) == len(stream)
