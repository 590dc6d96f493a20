"""DataLoaders, created per request. Each batch opens its own short read session."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import ScalarResult, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from schema.auth import select_active_keys
from schema.models import (
    ApiKey,
    Benchmark,
    BenchmarkScore,
    FactSource,
    FeedRun,
    FeedSource,
    LlmModel,
    ModelAlias,
    Offering,
    Organization,
    Price,
    Provider,
)
from schema.queries.catalog import select_current_prices, select_last_reviewed, select_price_history

Fetch = Callable[[AsyncSession, Sequence[Any]], Awaitable[dict[Any, Any]]]


def _loader(
    sessions: async_sessionmaker[AsyncSession], fetch: Fetch, default: Callable[[], Any]
) -> DataLoader[Any, Any]:
    async def load(keys: list[Any]) -> list[Any]:
        async with sessions() as session:
            found = await fetch(session, keys)
        return [found.get(key, default()) for key in keys]

    return DataLoader(load_fn=load)


def _by_id(table: type) -> Fetch:
    async def fetch(session: AsyncSession, ids: Sequence[int]) -> dict[int, Any]:
        rows: ScalarResult[Any] = await session.scalars(
            # `table` is any mapped class with an `id` column; `type` does not say so.
            select(table).where(table.id.in_(ids))  # type: ignore[attr-defined]
        )
        return {row.id: row for row in rows}

    return fetch


async def _providers_by_slug(session: AsyncSession, slugs: Sequence[str]) -> dict[str, Provider]:
    rows = await session.scalars(select(Provider).where(Provider.slug.in_(slugs)))
    return {row.slug: row for row in rows}


def _grouped(table: type, column: str, *order: Any) -> Fetch:
    async def fetch(session: AsyncSession, keys: Sequence[int]) -> dict[int, list[Any]]:
        key_column = getattr(table, column)
        rows: ScalarResult[Any] = await session.scalars(
            select(table).where(key_column.in_(keys)).order_by(*order)
        )
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, column)].append(row)
        return grouped

    return fetch


def _current_prices(now: datetime) -> Fetch:
    async def fetch(session: AsyncSession, offering_ids: Sequence[int]) -> dict[int, Price]:
        rows = await session.scalars(select_current_prices(offering_ids, now))
        return {row.offering_id: row for row in rows}

    return fetch


async def _last_reviewed(session: AsyncSession, model_ids: Sequence[int]) -> dict[int, datetime]:
    return dict((await session.execute(select_last_reviewed(model_ids))).all())


async def _price_history(
    session: AsyncSession, keys: Sequence[tuple[int, str | None, datetime | None]]
) -> dict[tuple[int, str | None, datetime | None], list[tuple[Price, Offering]]]:
    """Keys are (model id, provider filter, since); one statement per distinct filter."""
    found: dict[tuple[int, str | None, datetime | None], list[tuple[Price, Offering]]] = (
        defaultdict(list)
    )
    filters = {(provider, since) for _model, provider, since in keys}
    for provider, since in filters:
        model_ids = [model for model, p, s in keys if (p, s) == (provider, since)]
        rows = await session.execute(select_price_history(model_ids, provider, since))
        for price, offering in rows:
            found[(offering.model_id, provider, since)].append((price, offering))
    return found


async def _last_runs(session: AsyncSession, source_ids: Sequence[int]) -> dict[int, FeedRun]:
    """The newest run of each feed source (run ids follow queue order)."""
    newest = (
        select(func.max(FeedRun.id))
        .where(FeedRun.source_id.in_(source_ids))
        .group_by(FeedRun.source_id)
    )
    rows = await session.scalars(select(FeedRun).where(FeedRun.id.in_(newest)))
    return {row.source_id: row for row in rows}


async def _active_keys_by_prefix(
    session: AsyncSession, prefixes: Sequence[str]
) -> dict[str, list[ApiKey]]:
    """Unrevoked API keys by their public prefix (one presented key per request, in practice)."""
    found: dict[str, list[ApiKey]] = {}
    for prefix in prefixes:
        found[prefix] = list(await session.scalars(select_active_keys(prefix)))
    return found


class Loaders:
    """The request's DataLoaders, each built on first use (most requests use a few)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
        self._sessions = sessions
        self._now = now

    def _loader(
        self, fetch: Fetch, default: Callable[[], Any] = lambda: None
    ) -> DataLoader[Any, Any]:
        return _loader(self._sessions, fetch, default)

    @cached_property
    def model_by_id(self) -> DataLoader[int, LlmModel | None]:
        return self._loader(_by_id(LlmModel))

    @cached_property
    def organization_by_id(self) -> DataLoader[int, Organization | None]:
        return self._loader(_by_id(Organization))

    @cached_property
    def provider_by_id(self) -> DataLoader[int, Provider | None]:
        return self._loader(_by_id(Provider))

    @cached_property
    def provider_by_slug(self) -> DataLoader[str, Provider | None]:
        return self._loader(_providers_by_slug)

    @cached_property
    def benchmark_by_id(self) -> DataLoader[int, Benchmark | None]:
        return self._loader(_by_id(Benchmark))

    @cached_property
    def offering_by_id(self) -> DataLoader[int, Offering | None]:
        return self._loader(_by_id(Offering))

    @cached_property
    def offerings_by_model_id(self) -> DataLoader[int, list[Offering]]:
        return self._loader(
            _grouped(Offering, "model_id", Offering.provider_id, Offering.region), list
        )

    @cached_property
    def offerings_by_provider_id(self) -> DataLoader[int, list[Offering]]:
        return self._loader(
            _grouped(Offering, "provider_id", Offering.model_id, Offering.region), list
        )

    @cached_property
    def current_price_by_offering_id(self) -> DataLoader[int, Price | None]:
        return self._loader(_current_prices(self._now))

    @cached_property
    def scores_by_model_id(self) -> DataLoader[int, list[BenchmarkScore]]:
        return self._loader(_grouped(BenchmarkScore, "model_id", BenchmarkScore.id), list)

    @cached_property
    def aliases_by_model_id(self) -> DataLoader[int, list[ModelAlias]]:
        return self._loader(
            _grouped(ModelAlias, "model_id", ModelAlias.source, ModelAlias.name), list
        )

    @cached_property
    def sources_by_model_id(self) -> DataLoader[int, list[FactSource]]:
        return self._loader(
            _grouped(FactSource, "model_id", FactSource.source, FactSource.field), list
        )

    @cached_property
    def last_reviewed_by_model_id(self) -> DataLoader[int, datetime | None]:
        return self._loader(_last_reviewed)

    @cached_property
    def price_history(
        self,
    ) -> DataLoader[tuple[int, str | None, datetime | None], list[tuple[Price, Offering]]]:
        return self._loader(_price_history, list)

    @cached_property
    def feed_source_by_id(self) -> DataLoader[int, FeedSource | None]:
        return self._loader(_by_id(FeedSource))

    @cached_property
    def feed_run_by_id(self) -> DataLoader[int, FeedRun | None]:
        return self._loader(_by_id(FeedRun))

    @cached_property
    def last_run_by_source_id(self) -> DataLoader[int, FeedRun | None]:
        return self._loader(_last_runs)

    @cached_property
    def active_api_keys_by_prefix(self) -> DataLoader[str, list[ApiKey]]:
        """Also the request's cache of the caller's key: it is looked up once per request."""
        return self._loader(_active_keys_by_prefix, list)


def create_loaders(sessions: async_sessionmaker[AsyncSession], now: datetime) -> Loaders:
    return Loaders(sessions, now)
