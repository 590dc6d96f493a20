"""The request's batched reads: one statement per kind of row, however many fields ask.

This is the data access of the request path, so it lives with the services that use it
(api/services/comparisons.py loads a comparison's facts through it) and below the GraphQL
types that also do; the statements it runs are built in schema/queries where they are more
than a `WHERE key IN (...)`. It knows nothing of GraphQL: a `BatchLoader` collects the keys
asked for while the event loop goes round and fetches them in one call, so fifty models'
`offerings` fields cost one statement. Loaders are created per request (per emitted event
for subscriptions), so nothing they fetch outlives it; the rows of a `models` page kept
between requests are primed into them (api/services/catalog_pages.py). Each batch opens
its own short read session, except inside `Loaders.sharing()`: there the batches (and the
other reads that ask `Loaders.session()`) take turns on one session, so a request's dozen
small statements cost one connection checkout, pre-ping, BEGIN and ROLLBACK instead of
one each.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from schema.auth import select_active_keys
from schema.db.base import Base
from schema.domain.prices import PriceState, stored_state
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
from schema.queries.catalog import (
    among,
    select_current_prices,
    select_last_reviewed,
    select_price_history,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Row = TypeVar("Row", bound=Base)

HistoryKey = tuple[int, str | None, datetime | None]
"""(model id, provider slug filter, since) of a model's price history."""


class BatchLoader(Generic[K, V]):
    """Each key loaded at most once; the keys asked for until the batch starts (callers
    woken together land in one) are fetched with one call of ``fetch_many``, which returns
    the values in key order."""

    def __init__(self, fetch_many: Callable[[list[K]], Awaitable[list[V]]]) -> None:
        self._fetch_many = fetch_many
        self._futures: dict[K, asyncio.Future[V]] = {}
        self._batch: dict[K, asyncio.Future[V]] | None = None
        self._running: set[asyncio.Task[None]] = set()

    def load(self, key: K) -> asyncio.Future[V]:
        future = self._futures.get(key)
        if future is not None and not future.cancelled():
            return future
        loop = asyncio.get_running_loop()
        future = self._futures[key] = loop.create_future()
        if self._batch is None:
            self._batch = {}
            loop.call_soon(self._start, self._batch)
        self._batch[key] = future
        return future

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        """The keys are asked for now (so they join this batch); the values come in key
        order when awaited. (Not `asyncio.gather`, whose callbacks on a models page's 550
        keys cost some 0.4 ms of CPU: bench/README.md, "executed models page".)"""
        return _values([self.load(key) for key in keys])

    def prime(self, key: K, value: V) -> None:
        """Remember a row the request already holds (unless the key was asked for)."""
        if key not in self._futures or self._futures[key].cancelled():
            future = self._futures[key] = asyncio.get_running_loop().create_future()
            future.set_result(value)

    def _start(self, batch: dict[K, asyncio.Future[V]]) -> None:
        task = asyncio.get_running_loop().create_task(self._dispatch(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _dispatch(self, batch: dict[K, asyncio.Future[V]]) -> None:
        self._batch = None  # keys asked for from now on go to the next batch
        waiting = {key: future for key, future in batch.items() if not future.done()}
        if not waiting:  # every caller went away (or was primed)
            return
        try:
            values = await self._fetch_many(list(waiting))
        except Exception as error:  # noqa: BLE001 (every caller of the batch gets it)
            for future in waiting.values():
                if not future.done():
                    future.set_exception(error)
            return
        for future, value in zip(waiting.values(), values, strict=True):
            if not future.done():
                future.set_result(value)


async def _values(futures: list[asyncio.Future[V]]) -> list[V]:
    """Each future's result, in order (once the first is done, its batch's are too). On an
    error, the others' errors count as seen (as `asyncio.gather` has them), not as lost."""
    try:
        return [await future for future in futures]
    except BaseException:
        for future in futures:
            if future.done() and not future.cancelled():
                future.exception()
        raise


Fetch = Callable[[AsyncSession, Sequence[K]], Awaitable[Mapping[K, V]]]
"""One statement for a batch of keys: the value of each key found."""


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _rows_by(entity: type[Row], column: InstrumentedAttribute[K]) -> Fetch[K, Row]:
    async def fetch(session: AsyncSession, keys: Sequence[K]) -> dict[K, Row]:
        rows = await session.scalars(select(entity).where(among(column, keys, dialect_of(session))))
        return {getattr(row, column.key): row for row in rows}

    return fetch


def _grouped_by(
    entity: type[Row], column: InstrumentedAttribute[K], *order: InstrumentedAttribute[Any]
) -> Fetch[K, list[Row]]:
    async def fetch(session: AsyncSession, keys: Sequence[K]) -> dict[K, list[Row]]:
        condition = among(column, keys, dialect_of(session))
        rows = await session.scalars(select(entity).where(condition).order_by(*order))
        grouped: dict[K, list[Row]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, column.key)].append(row)
        return grouped

    return fetch


def _current_prices(now: datetime) -> Fetch[int, PriceState]:
    """The price in force of each offering, as values (a page shows hundreds: plain rows
    cost a fraction of ORM objects, and nothing writes them back)."""

    async def fetch(session: AsyncSession, offering_ids: Sequence[int]) -> dict[int, PriceState]:
        statement = select_current_prices(offering_ids, now, dialect_of(session)).with_only_columns(
            Price.offering_id,
            Price.input_per_mtok,
            Price.output_per_mtok,
            Price.cached_input_per_mtok,
            Price.tiers,
            Price.source,
            Price.effective_from,
            Price.stated_at,
            Price.confirmed_at,
            Price.tiers_source,
        )
        return {row.offering_id: stored_state(row) for row in await session.execute(statement)}

    return fetch


async def _last_reviewed(session: AsyncSession, model_ids: Sequence[int]) -> dict[int, datetime]:
    return dict((await session.execute(select_last_reviewed(model_ids))).all())


async def _price_history(
    session: AsyncSession, keys: Sequence[HistoryKey]
) -> dict[HistoryKey, list[tuple[Price, Offering]]]:
    """One statement per distinct (provider, since) filter."""
    found: dict[HistoryKey, list[tuple[Price, Offering]]] = defaultdict(list)
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
    return {prefix: list(await session.scalars(select_active_keys(prefix))) for prefix in prefixes}


class Loaders:
    """The request's loaders, each built on first use (most requests use a few)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
        self._sessions = sessions
        self._now = now
        self._shared: AsyncSession | None = None
        self._turn = asyncio.Lock()

    @asynccontextmanager
    async def sharing(self) -> AsyncIterator[None]:
        """The reads inside (loads and `session()`, of any task) share one session, one
        after the other (a connection runs one statement at a time anyway). Inside an
        outer `sharing()`, the outer one's session."""
        if self._shared is not None:
            yield
            return
        async with self._sessions() as session:
            self._shared = session
            try:
                yield
            finally:
                async with self._turn:  # a read in progress ends first
                    self._shared = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for one read: the shared one in its turn, inside `sharing()`, else a
        new one. Do not wait for a load while holding it (the load may need the turn)."""
        if self._shared is not None:
            async with self._turn:
                shared = self._shared
                if shared is not None:
                    try:
                        yield shared
                    except BaseException:
                        self._shared = None  # its transaction may be broken: not for others
                        raise
                    return
        async with self._sessions() as session:
            yield session

    def _one(self, fetch: Fetch[K, V]) -> BatchLoader[K, V | None]:
        """None for a key with no row."""

        async def fetch_many(keys: list[K]) -> list[V | None]:
            async with self.session() as session:
                found = await fetch(session, keys)
            return [found.get(key) for key in keys]

        return BatchLoader(fetch_many)

    def _many(self, fetch: Fetch[K, list[V]]) -> BatchLoader[K, list[V]]:
        """An empty list for a key with no rows."""

        async def fetch_many(keys: list[K]) -> list[list[V]]:
            async with self.session() as session:
                found = await fetch(session, keys)
            return [found.get(key, []) for key in keys]

        return BatchLoader(fetch_many)

    @cached_property
    def model_by_id(self) -> BatchLoader[int, LlmModel | None]:
        return self._one(_rows_by(LlmModel, LlmModel.id))

    @cached_property
    def organization_by_id(self) -> BatchLoader[int, Organization | None]:
        return self._one(_rows_by(Organization, Organization.id))

    @cached_property
    def provider_by_id(self) -> BatchLoader[int, Provider | None]:
        return self._one(_rows_by(Provider, Provider.id))

    @cached_property
    def provider_by_slug(self) -> BatchLoader[str, Provider | None]:
        return self._one(_rows_by(Provider, Provider.slug))

    @cached_property
    def benchmark_by_id(self) -> BatchLoader[int, Benchmark | None]:
        return self._one(_rows_by(Benchmark, Benchmark.id))

    @cached_property
    def offering_by_id(self) -> BatchLoader[int, Offering | None]:
        return self._one(_rows_by(Offering, Offering.id))

    @cached_property
    def offerings_by_model_id(self) -> BatchLoader[int, list[Offering]]:
        return self._many(
            _grouped_by(Offering, Offering.model_id, Offering.provider_id, Offering.region)
        )

    @cached_property
    def offerings_by_provider_id(self) -> BatchLoader[int, list[Offering]]:
        return self._many(
            _grouped_by(Offering, Offering.provider_id, Offering.model_id, Offering.region)
        )

    @cached_property
    def current_price_by_offering_id(self) -> BatchLoader[int, PriceState | None]:
        return self._one(_current_prices(self._now))

    @cached_property
    def scores_by_model_id(self) -> BatchLoader[int, list[BenchmarkScore]]:
        return self._many(_grouped_by(BenchmarkScore, BenchmarkScore.model_id, BenchmarkScore.id))

    @cached_property
    def aliases_by_model_id(self) -> BatchLoader[int, list[ModelAlias]]:
        return self._many(
            _grouped_by(ModelAlias, ModelAlias.model_id, ModelAlias.source, ModelAlias.name)
        )

    @cached_property
    def sources_by_model_id(self) -> BatchLoader[int, list[FactSource]]:
        return self._many(
            _grouped_by(FactSource, FactSource.model_id, FactSource.source, FactSource.field)
        )

    @cached_property
    def last_reviewed_by_model_id(self) -> BatchLoader[int, datetime | None]:
        return self._one(_last_reviewed)

    @cached_property
    def price_history(self) -> BatchLoader[HistoryKey, list[tuple[Price, Offering]]]:
        return self._many(_price_history)

    @cached_property
    def feed_source_by_id(self) -> BatchLoader[int, FeedSource | None]:
        return self._one(_rows_by(FeedSource, FeedSource.id))

    @cached_property
    def feed_run_by_id(self) -> BatchLoader[int, FeedRun | None]:
        return self._one(_rows_by(FeedRun, FeedRun.id))

    @cached_property
    def last_run_by_source_id(self) -> BatchLoader[int, FeedRun | None]:
        return self._one(_last_runs)

    @cached_property
    def active_api_keys_by_prefix(self) -> BatchLoader[str, list[ApiKey]]:
        """Also the request's cache of the caller's key: it is looked up once per request."""
        return self._many(_active_keys_by_prefix)


def create_loaders(sessions: async_sessionmaker[AsyncSession], now: datetime) -> Loaders:
    return Loaders(sessions, now)
