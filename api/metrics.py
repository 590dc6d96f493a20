"""`/metrics` in the Prometheus text format (version 0.0.4), written here: a few counters
and one histogram need no client library.

This process counts its GraphQL requests (by operation name, outcome, and whether the
response cache answered them: cache="hit", else "miss", executed by the GraphQL view) and
their latency, and its comparison cache hits and misses. Facts shared by every process are read from the database
at scrape time: feed runs by source and status, events published, and this process's event
hub lag (published events it has not delivered yet); open subscriptions are this process's.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cache import ComparisonCache
from api.events.hub import EventHub
from schema.models import FeedRun, FeedSource, PriceChangeEvent

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MAX_OPERATION_NAMES = 100
"""Distinct operation names kept as labels; later ones count as "other" (names come from
clients, so they must not grow the label set without bound)."""
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Metrics:
    requests: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    """(operation, outcome, cache) -> requests."""
    latency_buckets: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    """(operation, cache) -> requests per latency bucket (not cumulative: /metrics sums
    them), the last one past every bound."""
    latency_sum: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    operations: set[str] = field(default_factory=set)
    cache_hits: int = 0
    cache_misses: int = 0

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self.operations:  # checked when first kept
            return name
        if _NAME.match(name) and len(self.operations) < MAX_OPERATION_NAMES:
            self.operations.add(name)
            return name
        return "other"

    def observe_request(
        self, operation: str | None, outcome: str, seconds: float, *, cache: str = "miss"
    ) -> None:
        """``cache``: "hit" when the response cache answered, "miss" when the view did."""
        label = self.operation_label(operation)
        self.requests[(label, outcome, cache)] += 1
        buckets = self.latency_buckets.setdefault((label, cache), [0] * (len(LATENCY_BUCKETS) + 1))
        buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum[(label, cache)] += seconds


class CountingCache:
    """The comparison cache, counting hits and misses of its reads."""

    def __init__(self, inner: ComparisonCache, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def generations(self, model_ids: Sequence[int]) -> list[int] | None:
        return await self.inner.generations(model_ids)

    async def get(self, key: str) -> str | None:
        value = await self.inner.get(key)
        if value is None:
            self.metrics.cache_misses += 1
        else:
            self.metrics.cache_hits += 1
        return value

    async def set(self, key: str, value: str) -> None:
        await self.inner.set(key, value)

    async def close(self) -> None:
        await self.inner.close()


def latency_histogram(metrics: Metrics) -> list[str]:
    """The request latency histogram's lines (cumulative buckets, as Prometheus reads them)."""
    lines = [
        "# HELP llmref_graphql_request_seconds GraphQL HTTP request latency by operation name"
        " and response cache hit or miss.",
        "# TYPE llmref_graphql_request_seconds histogram",
    ]
    for (operation, cache), buckets in sorted(metrics.latency_buckets.items()):
        cumulative = list(itertools.accumulate(buckets))
        for bound, value in zip((*LATENCY_BUCKETS, "+Inf"), cumulative, strict=True):
            labels = _labels(operation=operation, cache=cache, le=str(bound))
            lines.append(f"llmref_graphql_request_seconds_bucket{labels} {value}")
        labels = _labels(operation=operation, cache=cache)
        lines.append(
            f"llmref_graphql_request_seconds_sum{labels} "
            f"{metrics.latency_sum[(operation, cache)]:.6f}"
        )
        lines.append(f"llmref_graphql_request_seconds_count{labels} {cumulative[-1]}")
    return lines


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{name}="{escape(value)}"' for name, value in labels.items()) + "}"


async def exposition(
    metrics: Metrics, hub: EventHub, sessions: async_sessionmaker[AsyncSession]
) -> str:
    async with sessions() as session:
        runs = (
            await session.execute(
                select(FeedSource.slug, FeedRun.status, func.count())
                .join(FeedSource, FeedSource.id == FeedRun.source_id)
                .group_by(FeedSource.slug, FeedRun.status)
                .order_by(FeedSource.slug, FeedRun.status)
            )
        ).all()
        published = PriceChangeEvent.published_at.is_not(None)
        count, last = (
            await session.execute(
                select(func.count(), func.max(PriceChangeEvent.id)).where(published)
            )
        ).one()
    lines = [
        "# HELP llmref_graphql_requests_total GraphQL HTTP requests by operation name, outcome"
        " and response cache hit or miss.",
        "# TYPE llmref_graphql_requests_total counter",
    ]
    for (operation, outcome, cache), value in sorted(metrics.requests.items()):
        labels = _labels(operation=operation, outcome=outcome, cache=cache)
        lines.append(f"llmref_graphql_requests_total{labels} {value}")
    lines += latency_histogram(metrics)
    lines += [
        "# HELP llmref_comparison_cache_requests_total Comparison cache reads by result.",
        "# TYPE llmref_comparison_cache_requests_total counter",
        f'llmref_comparison_cache_requests_total{{result="hit"}} {metrics.cache_hits}',
        f'llmref_comparison_cache_requests_total{{result="miss"}} {metrics.cache_misses}',
        "# HELP llmref_feed_runs Feed runs recorded, by source and status.",
        "# TYPE llmref_feed_runs gauge",
    ]
    for slug, status, value in runs:
        lines.append(f"llmref_feed_runs{_labels(source=slug, status=status)} {value}")
    lines += [
        "# HELP llmref_events_published Price-change events published (and still retained).",
        "# TYPE llmref_events_published gauge",
        f"llmref_events_published {count}",
        "# HELP llmref_event_hub_lag_events Published events this process has not delivered yet.",
        "# TYPE llmref_event_hub_lag_events gauge",
        f"llmref_event_hub_lag_events {max(0, (last or 0) - hub.last_delivered)}",
        "# HELP llmref_open_subscriptions Subscriptions this process is serving.",
        "# TYPE llmref_open_subscriptions gauge",
        f"llmref_open_subscriptions {len(hub.subscribers)}",
    ]
    return "\n".join(lines) + "\n"
