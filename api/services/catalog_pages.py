"""The rows of `models` pages, kept in this process from one request to the next.

Frontends read the same few catalog pages far more often than the catalog changes, and a
page's reads are most of what executing it costs (bench/README.md, "executed models
page"). So each page's rows (its total and models, and once a request asks for them, its
models' offerings with their providers and prices in force) are kept under the catalog
generation (api/catalog_generation.py) read when they were loaded. A request whose own
read gives the same generation executes its query on them instead of reading the
database: a client that has heard of a change from any process never gets rows from
before it. Prices in force also change with time alone, when a scheduled price starts or
a price ends, so a page's routes are kept only until the first such date among their
prices after they were read.

Not kept: pages whose models depend on prices in force (a maximum output price, or
cheapest first: any scheduled change in the catalog could move them), requests with
`Cache-Control: no-cache` (they read everything afresh) and every page when Redis is not
configured (no generation is shared between processes). The kept pages of the current
generation hold at most ``max_rows`` rows in all (models, offerings, providers and prices:
about 1.8 KB each, bench/README.md), least recently used out; a new generation drops them
all.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from datetime import datetime
from decimal import Decimal

from api.catalog_generation import CatalogGeneration
from api.services.loaders import Loaders, dialect_of
from schema.domain.prices import PriceState
from schema.models import LlmModel, Offering, Provider
from schema.queries.catalog import (
    count_models,
    model_filter_conditions,
    select_models_page,
    select_next_price_change,
)


@dataclasses.dataclass(frozen=True)
class ModelsQuery:
    """The arguments of one `models` page."""

    order: str
    offset: int
    limit: int
    search: str | None = None
    creator: str | None = None
    provider: str | None = None
    capabilities: tuple[str, ...] = ()
    min_context_window: int | None = None
    max_output_price_per_mtok: Decimal | None = None

    @property
    def priced(self) -> bool:
        """Whether the page's models depend on the prices in force."""
        return self.max_output_price_per_mtok is not None or self.order == "CHEAPEST_OUTPUT_PRICE"


@dataclasses.dataclass(frozen=True)
class Routes:
    """A page's offerings (by model id), their providers and their prices in force."""

    offerings: dict[int, list[Offering]]
    providers: dict[int, Provider | None]
    prices: dict[int, PriceState | None]
    until: datetime | None
    """The first start or end of any of their prices after they were read (None: none)."""

    @property
    def size(self) -> int:
        """The rows it holds."""
        return (
            sum(len(group) for group in self.offerings.values())
            + len(self.providers)
            + len(self.prices)
        )

    def prime(self, loaders: Loaders) -> None:
        for model_id, offerings in self.offerings.items():
            loaders.offerings_by_model_id.prime(model_id, offerings)
        for provider_id, provider in self.providers.items():
            loaders.provider_by_id.prime(provider_id, provider)
        for offering_id, price in self.prices.items():
            loaders.current_price_by_offering_id.prime(offering_id, price)


@dataclasses.dataclass
class ModelsPage:
    total: int
    rows: list[LlmModel]
    kept: bool
    """Kept for later requests: its routes are kept too once read (`CatalogPages.routes`)."""
    routes: Routes | None = None

    @property
    def size(self) -> int:
        """The rows it holds."""
        return len(self.rows) + (self.routes.size if self.routes is not None else 0)


class CatalogPages:
    """The pages of the current catalog generation that this process keeps."""

    def __init__(self, generation: CatalogGeneration, max_rows: int) -> None:
        self._generation = generation
        self._max_rows = max_rows
        self._kept: OrderedDict[ModelsQuery, ModelsPage] = OrderedDict()
        self._kept_generation: int | None = None

    async def models(self, query: ModelsQuery, loaders: Loaders, now: datetime) -> ModelsPage:
        """The kept page, else the page read now (and kept when it may be)."""
        generation = None if query.priced else await self._generation.read()
        if generation is None:  # not kept, or Redis did not answer
            return await read_models_page(query, loaders, now)
        if generation != self._kept_generation:
            self._kept.clear()
            self._kept_generation = generation
        page = self._kept.get(query)
        if page is not None:
            self._kept.move_to_end(query)
            return page
        page = dataclasses.replace(await read_models_page(query, loaders, now), kept=True)
        if generation == self._kept_generation:  # no newer generation read meanwhile
            self._kept[query] = page
            self._evict()
        return page

    async def routes(self, page: ModelsPage, loaders: Loaders, now: datetime) -> None:
        """A kept page's routes in the request's loaders, read once while in force."""
        if not page.kept:
            return
        routes = page.routes
        if routes is None or (routes.until is not None and now >= routes.until):
            routes = page.routes = await read_routes(loaders, [row.id for row in page.rows], now)
            self._evict()
        routes.prime(loaders)

    def _evict(self) -> None:
        """The least recently used pages out, until the rest fit in ``max_rows``."""
        held = sum(page.size for page in self._kept.values())
        while held > self._max_rows:
            _query, page = self._kept.popitem(last=False)
            held -= page.size


async def read_models_page(query: ModelsQuery, loaders: Loaders, now: datetime) -> ModelsPage:
    """The page's total and models, read from the database (one session: call it inside
    `loaders.sharing()` to share it with the page's other reads)."""
    conditions = model_filter_conditions(
        now=now,
        search=query.search,
        creator=query.creator,
        provider=query.provider,
        capabilities=query.capabilities,
        min_context_window=query.min_context_window,
        max_output_price_per_mtok=query.max_output_price_per_mtok,
    )
    statement = select_models_page(
        conditions, query.order, now=now, offset=query.offset, limit=query.limit
    )
    async with loaders.session() as session:
        total = await session.scalar(count_models(conditions)) or 0
        rows = list((await session.scalars(statement)).all())
    return ModelsPage(total=total, rows=rows, kept=False)


async def read_routes(loaders: Loaders, model_ids: list[int], now: datetime) -> Routes:
    groups = await loaders.offerings_by_model_id.load_many(model_ids)
    offerings = [offering for group in groups for offering in group]
    offering_ids = [offering.id for offering in offerings]
    provider_ids = sorted({offering.provider_id for offering in offerings})
    providers = await loaders.provider_by_id.load_many(provider_ids)
    prices = await loaders.current_price_by_offering_id.load_many(offering_ids)
    async with loaders.session() as session:
        statement = select_next_price_change(offering_ids, now, dialect_of(session))
        starts, ends = (await session.execute(statement)).one()
    return Routes(
        offerings=dict(zip(model_ids, groups, strict=True)),
        providers=dict(zip(provider_ids, providers, strict=True)),
        prices=dict(zip(offering_ids, prices, strict=True)),
        until=min((moment for moment in (starts, ends) if moment is not None), default=None),
    )
