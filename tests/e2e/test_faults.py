"""Faults on the way from a feed to the catalog lose nothing and publish nothing twice.

Each test runs the real stack (PostgreSQL, Redis, a Celery worker process, `llmref serve`
with Redis, the local feed server) on a catalog holding models.dev's models and LiteLLM's
snapshot of 2026-07-01, and asks for LiteLLM's snapshot of 2026-07-03 (or a damaged one)
through `resyncFeed`: a server error, a hung feed, malformed and truncated JSON, a worker
killed in the middle of an apply, Redis gone when the events are to be published, and an
implausible price move held for review.

To stop a worker at a known point inside the apply transaction, a test holds a row lock on
the `litellm` feed_sources row (FOR NO KEY UPDATE, so the run rows that reference it can
still be written): the run's transaction updates that row last, after its prices and
events, so it waits there, uncommitted, for as long as the test wants.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import Connection, func, select, text

import schema.models  # noqa: F401 - every table in the metadata
from schema.db.base import Base
from schema.tasks import SWEEP
from tests.e2e.feed_server import Reply, read_payload
from tests.e2e.processes import (
    LITELLM_JULY_1,
    LITELLM_JULY_3,
    PRICE_CHANGES,
    WORKER_READY,
    EventSignature,
    RedisServer,
    Stack,
    api_event_signature,
    catalog_template,
    clean_apply,
    events_of_run,
    worker_stack,
)

MODEL = """query($slug: String!) { model(slug: $slug) { offerings { provider { slug } region
  price { inputPerMTok outputPerMTok } } } }"""
HELD = """{ heldPriceChanges { id source reason status
  current { inputPerMTok outputPerMTok } proposed { inputPerMTok outputPerMTok }
  offering { provider { slug } model { slug } } feedRun { id } } }"""
APPROVE = "mutation($id: ID!) { approvePriceChange(id: $id) { id status decidedAt } }"
RUNS = '{ feedRuns(source: "litellm") { id status } }'


@pytest.fixture(scope="module")
def july_1_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A template database: models.dev's models, LiteLLM of 2026-07-01; an ops key."""
    with catalog_template(tmp_path_factory.mktemp("catalog"), LITELLM_JULY_1) as template:
        yield template


@pytest.fixture(scope="module")
def july_3_events(july_1_catalog: tuple[str, str]) -> list[EventSignature]:
    """What one clean run of 2026-07-03 records on that catalog."""
    return clean_apply(july_1_catalog[0], LITELLM_JULY_3)


# --- helpers -----------------------------------------------------------------------------


def anthropic_price(stack: Stack, model: str = "claude-sonnet-5") -> tuple[str, str]:
    offerings = stack.graphql(MODEL, {"slug": model})["model"]["offerings"]
    [price] = [
        o["price"]
        for o in offerings
        if o["provider"]["slug"] == "anthropic" and o["region"] is None
    ]
    return price["inputPerMTok"], price["outputPerMTok"]


def catalog_state(stack: Stack) -> dict[str, Any]:
    """Every row of every table but feed_runs (a failed run is recorded there): the
    catalog, the prices and their history, the events, the sources' checksums and ETags."""
    with stack.engine.connect() as connection:
        return {
            table.name: (
                connection.scalar(select(func.count()).select_from(table)),
                connection.execute(select(table).order_by(*table.primary_key.columns)).all(),
            )
            for table in Base.metadata.sorted_tables
            if table.name != "feed_runs"
        }


TEMPLATE_RUNS = 2
"""The template's own runs: models.dev, then LiteLLM of 2026-07-01."""


def runs_since_template(stack: Stack) -> list[dict[str, str]]:
    """The LiteLLM runs this test made, newest first."""
    return [run for run in stack.graphql(RUNS)["feedRuns"] if int(run["id"]) > TEMPLATE_RUNS]


def events_since_template(stack: Stack) -> list[int]:
    return [
        row[0]
        for row in stack.sql(
            "SELECT id FROM price_change_events WHERE feed_run_id > :runs ORDER BY id",
            runs=TEMPLATE_RUNS,
        )
    ]


def assert_published_once(stack: Stack, events: list[tuple[int, EventSignature]]) -> None:
    """Every given event is published, and the stream holds exactly these, once each."""
    stream = stack.wait_for_stream([event_id for event_id, _ in events])
    assert Counter(stream) == Counter(event_id for event_id, _ in events)
    assert stream == sorted(stream)
    unpublished = stack.sql("SELECT count(*) FROM price_change_events WHERE published_at IS NULL")
    assert unpublished == [(0,)]


@contextmanager
def apply_held_at_its_end(stack: Stack) -> Iterator[Connection]:
    """Hold the `litellm` source row so that a run's apply transaction waits just before
    its commit; released when the block ends."""
    with stack.engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(
            text("SELECT id FROM feed_sources WHERE slug = 'litellm' FOR NO KEY UPDATE")
        )
        try:
            yield connection
        finally:
            transaction.rollback()


def wait_for_blocked_apply(stack: Stack, blocker: Connection, timeout: float = 30) -> int:
    """The backend pid of the worker's apply once it waits on the blocker's lock, having
    written prices and events in its transaction, uncommitted."""
    blocker_pid = blocker.scalar(text("SELECT pg_backend_pid()"))
    deadline = time.monotonic() + timeout
    while True:
        rows = stack.sql(
            "SELECT a.pid, a.query FROM pg_stat_activity a WHERE a.datname = current_database()"
            " AND a.wait_event_type = 'Lock' AND :blocker = ANY(pg_blocking_pids(a.pid))",
            blocker=blocker_pid,
        )
        if rows:
            [(pid, query)] = rows
            assert query.startswith("UPDATE feed_sources"), query
            written = stack.sql(
                "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE l.pid = :pid AND l.mode = 'RowExclusiveLock' AND l.granted"
                " AND c.relname IN ('prices', 'observed_prices', 'price_change_events')",
                pid=pid,
            )
            assert {name for (name,) in written} == {
                "prices",
                "observed_prices",
                "price_change_events",
            }
            return int(pid)
        if time.monotonic() > deadline:
            raise TimeoutError(f"no apply waited on the lock:\n{stack.worker.log()[-3000:]}")
        time.sleep(0.05)


def wait_until_gone(stack: Stack, backend_pid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while stack.sql("SELECT 1 FROM pg_stat_activity WHERE pid = :pid", pid=backend_pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"backend {backend_pid} is still there")
        time.sleep(0.05)


def wait_for(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


# --- the faults --------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_server_error_is_retried_within_the_same_run(
    tmp_path: Path, july_1_catalog: tuple[str, str], july_3_events: list[EventSignature]
) -> None:
    template, key = july_1_catalog
    with worker_stack(tmp_path, template=template, ops_key=key) as stack:
        stack.feed.serve_file(LITELLM_JULY_3)
        stack.feed.script(Reply(status=500, body=b"upstream trouble"))
        run = stack.wait_for_run(stack.resync())

        assert run["status"] == "SUCCEEDED", run
        assert [r.status for r in stack.feed.requests] == [500, 200]
        assert runs_since_template(stack) == [{"id": run["id"], "status": "SUCCEEDED"}]
        events = events_of_run(stack.sessions, int(run["id"]))
        assert Counter(signature for _, signature in events) == Counter(july_3_events)
        assert events_since_template(stack) == [event_id for event_id, _ in events]
        assert_published_once(stack, events)
        assert anthropic_price(stack) == ("2", "10")


@pytest.mark.timeout(120)
def test_a_hung_feed_fails_after_the_retries_and_the_old_prices_stay(
    tmp_path: Path, july_1_catalog: tuple[str, str]
) -> None:
    template, key = july_1_catalog
    read_timeout = 1.0
    with worker_stack(
        tmp_path,
        template=template,
        ops_key=key,
        worker_env={"LLMREF_FETCH_READ_TIMEOUT_SECONDS": str(read_timeout)},
    ) as stack:
        before = catalog_state(stack)
        stack.feed.serve_file(LITELLM_JULY_3)
        stack.feed.script(*[Reply(delay=read_timeout * 5)] * 3)  # the first try and 2 retries
        run = stack.wait_for_run(stack.resync())

        assert run["status"] == "FAILED", run
        assert run["error"].startswith("gave up after 3 attempts: "), run["error"]
        assert "ReadTimeout" in run["error"]
        assert len(stack.feed.requests) == 3
        assert runs_since_template(stack) == [{"id": run["id"], "status": "FAILED"}]
        assert catalog_state(stack) == before
        assert anthropic_price(stack) == ("3", "15")  # the previous price is still served
        assert events_since_template(stack) == []
        assert stack.stream() == []


def _malformed(raw: bytes) -> bytes:
    return raw.replace(b'"litellm_provider":', b'"litellm_provider"', 1)


def _truncated(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


@pytest.mark.timeout(120)
def test_malformed_or_truncated_json_fails_and_changes_nothing(
    tmp_path: Path, july_1_catalog: tuple[str, str], july_3_events: list[EventSignature]
) -> None:
    template, key = july_1_catalog
    july_3 = read_payload(LITELLM_JULY_3)
    with worker_stack(tmp_path, template=template, ops_key=key) as stack:
        before = catalog_state(stack)
        for damage in (_malformed, _truncated):
            stack.feed.serve(damage(july_3))
            run = stack.wait_for_run(stack.resync())
            assert run["status"] == "FAILED", run
            assert "not valid JSON" in run["error"], run["error"]
            assert (run["seen"], run["added"], run["changed"], run["removed"]) == (0, 0, 0, 0)
            assert catalog_state(stack) == before
            assert anthropic_price(stack) == ("3", "15")
            assert stack.stream() == []

        # The failed bytes were not taken as applied: the good snapshot applies in full.
        stack.feed.serve(july_3)
        good = stack.wait_for_run(stack.resync())
        assert good["status"] == "SUCCEEDED", good
        events = events_of_run(stack.sessions, int(good["id"]))
        assert Counter(signature for _, signature in events) == Counter(july_3_events)
        assert events_since_template(stack) == [event_id for event_id, _ in events]
        assert_published_once(stack, events)


KILL_LIMITS = {
    "LLMREF_TASK_SOFT_TIME_LIMIT_SECONDS": "8",
    "LLMREF_TASK_TIME_LIMIT_SECONDS": "10",
    "LLMREF_VISIBILITY_TIMEOUT_SECONDS": "12",
}
"""Short limits (soft < hard < visibility): a message whose worker died comes back soon."""


@pytest.mark.timeout(150)
@pytest.mark.parametrize("victim", ["pool process", "whole worker"])
def test_a_worker_killed_in_the_middle_of_an_apply_applies_it_exactly_once(
    tmp_path: Path,
    july_1_catalog: tuple[str, str],
    july_3_events: list[EventSignature],
    victim: str,
) -> None:
    template, key = july_1_catalog
    with worker_stack(tmp_path, template=template, ops_key=key, worker_env=KILL_LIMITS) as stack:
        stack.feed.serve_file(LITELLM_JULY_3)
        with apply_held_at_its_end(stack) as blocker:
            run_id = stack.resync()
            stack.feed.wait_for_requests(1)
            backend = wait_for_blocked_apply(stack, blocker)
            assert events_of_run(stack.sessions, run_id) == []  # nothing committed yet
            if victim == "pool process":
                [child] = stack.worker.children()
                os.kill(child, signal.SIGKILL)
            else:
                stack.worker.kill(signal.SIGKILL)  # the worker and its pool: SIGKILL the group
        # The killed apply's transaction is rolled back when its connection goes.
        wait_until_gone(stack, backend)
        assert events_of_run(stack.sessions, run_id) == []
        [(status,)] = stack.sql("SELECT status FROM feed_runs WHERE id = :id", id=run_id)
        assert status == "RUNNING"

        if victim == "whole worker":
            # The unacknowledged message comes back once the visibility timeout has passed
            # since its delivery; a new worker restores it when it starts.
            [(started,)] = stack.sql("SELECT started_at FROM feed_runs WHERE id = :id", id=run_id)
            visible_again = started.timestamp() + int(
                KILL_LIMITS["LLMREF_VISIBILITY_TIMEOUT_SECONDS"]
            )
            time.sleep(max(0.0, visible_again + 1 - time.time()))
            stack.start_worker().wait_for_log(WORKER_READY)

        run = stack.wait_for_run(run_id, timeout=60)
        assert run["status"] == "SUCCEEDED", run
        assert runs_since_template(stack) == [{"id": str(run_id), "status": "SUCCEEDED"}]
        assert len(stack.feed.requests) == 2  # fetched again by the second delivery
        events = events_of_run(stack.sessions, run_id)
        assert Counter(signature for _, signature in events) == Counter(july_3_events)
        assert events_since_template(stack) == [event_id for event_id, _ in events]
        assert_published_once(stack, events)
        assert anthropic_price(stack) == ("2", "10")


@pytest.mark.timeout(150)
def test_events_unpublished_while_redis_is_down_are_published_once_by_the_sweep(
    tmp_path: Path, july_1_catalog: tuple[str, str], july_3_events: list[EventSignature]
) -> None:
    template, key = july_1_catalog
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        with worker_stack(tmp_path, template=template, ops_key=key, redis=redis) as stack:
            stack.feed.serve_file(LITELLM_JULY_3)
            with apply_held_at_its_end(stack) as blocker:
                run_id = stack.resync()
                wait_for_blocked_apply(stack, blocker)
                redis.stop()  # Redis goes away before the run commits and publishes
            run = stack.wait_for_run(run_id)
            assert run["status"] == "SUCCEEDED", run
            stack.worker.wait_for_log(f"publishing run {run_id} failed after commit")

            events = events_of_run(stack.sessions, run_id)
            assert Counter(signature for _, signature in events) == Counter(july_3_events)
            unpublished = stack.sql(
                "SELECT count(*) FROM price_change_events WHERE published_at IS NULL"
            )
            assert unpublished == [(len(events),)]

            # Redis is back (empty: nothing was persisted); the sweep publishes the events.
            redis.start()
            celery = Celery("e2e", broker=redis.url())
            for sweeps in (1, 2):  # a second sweep finds nothing left to publish
                celery.send_task(SWEEP)
                wait_for(
                    lambda n=sweeps: stack.worker.log().count(f"Task {SWEEP}[") >= 2 * n,
                    f"sweep {sweeps} did not run:\n{stack.worker.log()[-3000:]}",
                )
                assert_published_once(stack, events)
            assert anthropic_price(stack) == ("2", "10")
    finally:
        redis.stop()


def _held_snapshot(raw: bytes, factor: int) -> bytes:
    """The snapshot with claude-sonnet-5's Anthropic prices ``factor`` times too high."""
    document = json.loads(raw)
    record = document["claude-sonnet-5"]
    for field in ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost"):
        record[field] = float(Decimal(str(record[field])) * factor)
    return json.dumps(document).encode()


@pytest.mark.timeout(120)
def test_an_implausible_price_is_held_until_approved(
    tmp_path: Path, july_1_catalog: tuple[str, str]
) -> None:
    template, key = july_1_catalog
    with worker_stack(tmp_path, template=template, ops_key=key) as stack:
        before = catalog_state(stack)
        stack.feed.serve(_held_snapshot(read_payload(LITELLM_JULY_1), factor=100))
        run = stack.wait_for_run(stack.resync())
        assert run["status"] == "SUCCEEDED", run
        assert (run["held"], run["changed"], run["added"], run["removed"]) == (1, 0, 0, 0)

        # The catalog's own load held LiteLLM's W&B unit errors already; this run holds one.
        [held] = [
            hold
            for hold in stack.graphql(HELD)["heldPriceChanges"]
            if hold["feedRun"] == {"id": run["id"]}
        ]
        assert held["status"] == "PENDING"
        assert held["source"] == "litellm"
        assert held["feedRun"] == {"id": run["id"]}
        assert held["offering"] == {
            "provider": {"slug": "anthropic"},
            "model": {"slug": "claude-sonnet-5"},
        }
        assert held["current"] == {"inputPerMTok": "3", "outputPerMTok": "15"}
        assert held["proposed"] == {"inputPerMTok": "300", "outputPerMTok": "1500"}
        assert "more than 10x" in held["reason"]

        # Nothing changed while it waits: no price, no event, nothing on the stream.
        after_hold = catalog_state(stack)
        for table in ("offerings", "observed_prices", "prices", "price_change_events"):
            assert after_hold[table] == before[table], table
        assert anthropic_price(stack) == ("3", "15")
        assert stack.stream() == []
        [(last_event,)] = stack.sql("SELECT max(id) FROM price_change_events")

        approved = stack.graphql(APPROVE, {"id": held["id"]})["approvePriceChange"]
        assert approved["status"] == "APPROVED"

        assert anthropic_price(stack) == ("300", "1500")
        [event] = stack.graphql(PRICE_CHANGES, {"after": str(last_event)})["priceChanges"]
        assert api_event_signature(event) == (
            "CHANGED",
            "claude-sonnet-5",
            "anthropic",
            None,
            (Decimal(3), Decimal(15), Decimal("0.3")),
            (Decimal(300), Decimal(1500), Decimal(30)),
        )
        assert_published_once(stack, [(int(event["id"]), api_event_signature(event))])
        pending = stack.graphql(HELD)["heldPriceChanges"]
        assert [hold for hold in pending if hold["feedRun"] == {"id": run["id"]}] == []
