"""Catalog types: thin wrappers over rows. Related rows come through the request's loaders;
a page loads those its selection asks for with its own rows (`preload_offerings`,
`offering_types`), so that the fields below it are values in hand, not awaitables."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types import Info

from api.context import Context
from api.graphql.in_hand import NOT_IN_HAND, NotInHand, in_hand
from api.graphql.pagination import page_of
from api.graphql.selection import selected_below
from schema.domain.costs import DEFAULT_TRAFFIC, cheapest_route
from schema.domain.prices import PriceState
from schema.domain.tags import decision_tags
from schema.models import (
    BenchmarkScore,
    FactSource,
    LlmModel,
    ModelAlias,
    Offering,
    Price,
    Provider,
)

PROVIDER_OFFERINGS_PAGE = 100
"""Routes of a provider in one answer unless `first` says otherwise (OpenRouter has ~375)."""
MODEL_LISTS_PAGE = 50
"""Items of a model's lists (routes, scores, history, aliases, sources) unless `first` says
otherwise; the busiest model has about 25 routes."""


T = TypeVar("T")


def _page(
    info: Info[Context, None],
    rows: Sequence[T],
    first: int | None,
    offset: int | None,
    default: int = MODEL_LISTS_PAGE,
) -> list[T]:
    maximum = info.context.settings.max_page_size
    return page_of(rows, first, offset, default=default, maximum=maximum)


@strawberry.enum(name="Capability")
class CapabilityEnum(Enum):
    VISION = "VISION"
    MULTIMODAL = "MULTIMODAL"
    REASONING = "REASONING"
    FUNCTION_CALLING = "FUNCTION_CALLING"
    TOOL_USE = "TOOL_USE"
    STRUCTURED_OUTPUTS = "STRUCTURED_OUTPUTS"
    CODE_EXECUTION = "CODE_EXECUTION"


@strawberry.enum(
    name="DatePrecision",
    description="How precisely a source states a date: to the day, or to the month only (then the date is the first of that month).",
)
class DatePrecisionEnum(Enum):
    DAY = "DAY"
    MONTH = "MONTH"


@strawberry.enum(name="OfferingStatus")
class OfferingStatusEnum(Enum):
    ACTIVE = "ACTIVE"
    DEPRECATED = "DEPRECATED"


def _precision(value: str | None) -> DatePrecisionEnum | None:
    return DatePrecisionEnum(value) if value else None


@strawberry.type(name="Organization")
class OrganizationType:
    slug: str
    name: str


@strawberry.type(
    name="PriceTier",
    description="Prices that apply instead of the base ones once a request's input reaches minInputTokens.",
)
class PriceTierType:
    min_input_tokens: int
    input_per_mtok: Decimal | None = strawberry.field(name="inputPerMTok")
    output_per_mtok: Decimal | None = strawberry.field(name="outputPerMTok")
    cached_input_per_mtok: Decimal | None = strawberry.field(name="cachedInputPerMTok")


@strawberry.type(name="Price")
class PriceType:
    input_per_mtok: Decimal | None = strawberry.field(name="inputPerMTok")
    output_per_mtok: Decimal | None = strawberry.field(name="outputPerMTok")
    cached_input_per_mtok: Decimal | None = strawberry.field(name="cachedInputPerMTok")
    tiers: list[PriceTierType]
    currency: str
    complete: bool = strawberry.field(
        description="True when both the input and the output price are known."
    )
    effective_from: datetime = strawberry.field(
        description="When it took effect: the source's stated start date, else the data date of the snapshot that first stated it (never the time llmref loaded it)."
    )
    source: str = strawberry.field(description="The feed that reported it, e.g. 'openrouter'.")
    stated_as_of: datetime | None = strawberry.field(
        description="The data date of the source's snapshot that first stated this price (its own timestamp, a bundled snapshot's recorded date, or the HTTP Last-Modified or fetch time of a live poll)."
    )
    last_confirmed_at: datetime | None = strawberry.field(
        description="The data date of the latest snapshot of that source that still states it."
    )
    tiers_source: str | None = strawberry.field(
        description="The source that states the tiers, when the price's own source states none and that source states the same base price with tiers."
    )

    @classmethod
    def from_row(cls, row: Price | PriceState) -> PriceType:
        return cls(
            input_per_mtok=row.input_per_mtok,
            output_per_mtok=row.output_per_mtok,
            cached_input_per_mtok=row.cached_input_per_mtok,
            tiers=[
                PriceTierType(
                    min_input_tokens=tier.min_input_tokens,
                    input_per_mtok=tier.input_per_mtok,
                    output_per_mtok=tier.output_per_mtok,
                    cached_input_per_mtok=tier.cached_input_per_mtok,
                )
                for tier in row.tiers
            ],
            currency="USD",
            complete=row.input_per_mtok is not None and row.output_per_mtok is not None,
            effective_from=row.effective_from,
            source=row.source,
            stated_as_of=row.stated_at,
            last_confirmed_at=row.confirmed_at,
            tiers_source=row.tiers_source,
        )


@strawberry.type(name="Provider")
class ProviderType:
    id: strawberry.ID
    slug: str
    name: str
    url: str | None

    @classmethod
    def from_row(cls, row: Provider) -> ProviderType:
        return cls(id=strawberry.ID(str(row.id)), slug=row.slug, name=row.name, url=row.url)

    @strawberry.field(
        description=f"At most `first` routes (default {PROVIDER_OFFERINGS_PAGE}, at most LLMREF_MAX_PAGE_SIZE) from `offset`."
    )
    async def offerings(
        self,
        info: Info[Context, None],
        first: int | None = PROVIDER_OFFERINGS_PAGE,
        offset: int | None = 0,
    ) -> list[OfferingType]:
        rows = await info.context.loaders.offerings_by_provider_id.load(int(self.id))
        return await offering_types(info, _page(info, rows, first, offset, PROVIDER_OFFERINGS_PAGE))


@strawberry.type(
    name="Offering",
    description="One route to a model: a provider serving it under its own model id.",
)
class OfferingType:
    id: strawberry.ID
    provider_model_id: str
    region: str | None = strawberry.field(
        description="The provider's region or site for this route ('eu', 'us', 'global', 'cn'); null when it has one only."
    )
    context_window: int | None
    status: OfferingStatusEnum
    updated_at: datetime
    model_id: strawberry.Private[int]
    provider_id: strawberry.Private[int]

    provider_in_hand: strawberry.Private[ProviderType | NotInHand] = NOT_IN_HAND
    price_in_hand: strawberry.Private[PriceType | NotInHand | None] = NOT_IN_HAND

    @classmethod
    def from_row(cls, row: Offering) -> OfferingType:
        return cls(
            id=strawberry.ID(str(row.id)),
            provider_model_id=row.provider_model_id,
            region=row.region or None,
            context_window=row.context_window,
            status=OfferingStatusEnum(row.status),
            updated_at=row.updated_at,
            model_id=row.model_id,
            provider_id=row.provider_id,
        )

    @strawberry.field
    async def model(self, info: Info[Context, None]) -> ModelType:
        return await model_of(info, self.model_id)

    @strawberry.field(graphql_type=ProviderType, metadata=in_hand("provider_in_hand"))
    def provider(self, info: Info[Context, None]) -> ProviderType | Awaitable[ProviderType]:
        if self.provider_in_hand is not NOT_IN_HAND:
            return self.provider_in_hand
        return provider_of(info, self.provider_id)

    @strawberry.field(
        graphql_type=PriceType | None,
        description="The price in force now; null when the provider publishes none.",
        metadata=in_hand("price_in_hand"),
    )
    def price(self, info: Info[Context, None]) -> PriceType | Awaitable[PriceType | None] | None:
        if self.price_in_hand is not NOT_IN_HAND:
            return self.price_in_hand
        return self._load_price(info)

    async def _load_price(self, info: Info[Context, None]) -> PriceType | None:
        row = await info.context.loaders.current_price_by_offering_id.load(int(self.id))
        return PriceType.from_row(row) if row is not None else None


async def offering_types(
    info: Info[Context, None], rows: Sequence[Offering], *path: str
) -> list[OfferingType]:
    """The rows as Offering objects, each with its provider and current price in hand when
    the query asks for them (under this field, or under `path` from it): one batch for each
    across all the offerings, and their fields are then plain values, not an awaitable per
    offering. (Built with `OfferingType.from_row` instead, the fields load them.)"""
    wanted = selected_below(info, *path)
    loaders = info.context.loaders
    offerings = [OfferingType.from_row(row) for row in rows]
    providers = (
        loaders.provider_by_id.load_many([row.provider_id for row in rows])
        if "provider" in wanted
        else None
    )
    prices = (
        loaders.current_price_by_offering_id.load_many([row.id for row in rows])
        if "price" in wanted
        else None
    )
    if providers is not None:
        for offering, provider in zip(offerings, await providers, strict=True):
            assert provider is not None  # a foreign key
            offering.provider_in_hand = ProviderType.from_row(provider)
    if prices is not None:
        for offering, price in zip(offerings, await prices, strict=True):
            offering.price_in_hand = PriceType.from_row(price) if price is not None else None
    return offerings


@strawberry.type(name="PricePoint")
class PricePointType:
    provider: ProviderType
    offering: OfferingType
    price: PriceType
    effective_from: datetime = strawberry.field(
        description="When it took effect: the source's stated start date, else the data date of the snapshot that first stated it (never the time llmref loaded it)."
    )
    effective_to: datetime | None = strawberry.field(description="Null while still in force.")


@strawberry.type(name="Benchmark")
class BenchmarkType:
    slug: str
    name: str
    higher_is_better: bool


@strawberry.type(name="BenchmarkScore")
class BenchmarkScoreType:
    score: float
    source: str | None
    benchmark_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: BenchmarkScore) -> BenchmarkScoreType:
        return cls(score=float(row.score), source=row.source, benchmark_id=row.benchmark_id)

    @strawberry.field
    async def benchmark(self, info: Info[Context, None]) -> BenchmarkType:
        row = await info.context.loaders.benchmark_by_id.load(self.benchmark_id)
        assert row is not None
        return BenchmarkType(slug=row.slug, name=row.name, higher_is_better=row.higher_is_better)


@strawberry.type(name="Source", description="Where a fact came from, and what that source claims.")
class SourceType:
    name: str
    url: str | None
    retrieved_at: datetime | None = strawberry.field(description="When llmref read the claim.")
    stated_as_of: datetime | None = strawberry.field(
        description="The date the source states the claim as of: the data date of its snapshot (the curated file: the date its source was checked), never a load time."
    )
    field: str | None = strawberry.field(
        description="The fact this source speaks to, e.g. 'contextWindow'; null for a source of the whole record."
    )
    value: str | None = strawberry.field(
        description="What the source claims for that field, as text; it may differ from the value shown."
    )
    creator_listing: bool = strawberry.field(
        description="True when the claim is the creator's own listing in that feed (its own API's record, or a record built on the lab's own file); such claims outrank hosts' copies."
    )

    @classmethod
    def from_row(cls, row: FactSource) -> SourceType:
        return cls(
            name=row.source,
            url=row.url,
            retrieved_at=row.retrieved_at,
            stated_as_of=row.stated_at,
            field=row.field,
            value=row.value,
            creator_listing=row.from_creator,
        )


@strawberry.type(name="ModelAlias")
class ModelAliasType:
    name: str
    source: str = strawberry.field(
        description="The feed or provider that uses the name, e.g. 'openrouter'."
    )

    @classmethod
    def from_row(cls, row: ModelAlias) -> ModelAliasType:
        return cls(name=row.name, source=row.source)


@strawberry.type(name="Model")
class ModelType:
    id: strawberry.ID
    slug: str
    name: str
    released_on: date | None
    context_window: int | None
    max_output_tokens: int | None
    parameters_billions: float | None
    architecture: str | None
    license: str | None = strawberry.field(
        description="The SPDX id where one exists ('Apache-2.0'), else the licence's own name; null when unknown."
    )
    open_weights: bool | None
    knowledge_cutoff: date | None
    released_on_precision: DatePrecisionEnum | None = strawberry.field(
        description="MONTH when the source shown states the release month only (releasedOn is then the first of it)."
    )
    knowledge_cutoff_precision: DatePrecisionEnum | None = strawberry.field(
        description="MONTH when the source shown states the cut-off month only (knowledgeCutoff is then the first of it)."
    )
    input_modalities: list[str]
    output_modalities: list[str]
    capabilities: list[CapabilityEnum]
    decision_tags: list[str] = strawberry.field(
        description="Short decision labels such as 'Long context' and 'Vision'."
    )
    creator_id: strawberry.Private[int | None]
    offerings_in_hand: strawberry.Private[list[OfferingType] | NotInHand] = NOT_IN_HAND
    """All its offerings, when loaded with the page it is on (`preload_offerings`)."""

    @classmethod
    def from_row(cls, row: LlmModel) -> ModelType:
        return cls(
            id=strawberry.ID(str(row.id)),
            slug=row.slug,
            name=row.name,
            released_on=row.released_on,
            context_window=row.context_window,
            max_output_tokens=row.max_output_tokens,
            parameters_billions=float(row.parameters_billions)
            if row.parameters_billions is not None
            else None,
            architecture=row.architecture,
            license=row.license,
            open_weights=row.open_weights,
            knowledge_cutoff=row.knowledge_cutoff,
            released_on_precision=_precision(row.released_on_precision),
            knowledge_cutoff_precision=_precision(row.knowledge_cutoff_precision),
            input_modalities=list(row.input_modalities or []),
            output_modalities=list(row.output_modalities or []),
            capabilities=[CapabilityEnum(name) for name in row.capabilities or []],
            decision_tags=decision_tags(row.context_window, row.input_modalities or []),
            creator_id=row.creator_id,
        )

    @strawberry.field
    async def creator(self, info: Info[Context, None]) -> OrganizationType | None:
        if self.creator_id is None:
            return None
        row = await info.context.loaders.organization_by_id.load(self.creator_id)
        return OrganizationType(slug=row.slug, name=row.name) if row is not None else None

    @strawberry.field(
        graphql_type=list[OfferingType],
        description=f"At most `first` routes (default {MODEL_LISTS_PAGE}, at most LLMREF_MAX_PAGE_SIZE) from `offset`.",
        metadata=in_hand("offerings_first_page"),
    )
    def offerings(
        self,
        info: Info[Context, None],
        first: int | None = MODEL_LISTS_PAGE,
        offset: int | None = 0,
    ) -> list[OfferingType] | Awaitable[list[OfferingType]]:
        if self.offerings_in_hand is not NOT_IN_HAND:
            return _page(info, self.offerings_in_hand, first, offset)
        return self._load_offerings(info, first, offset)

    @property
    def offerings_first_page(self) -> list[OfferingType] | NotInHand:
        """What `offerings` answers at its default arguments, when they are in hand (the
        default page size is within LLMREF_MAX_PAGE_SIZE, which is at least 100)."""
        offerings = self.offerings_in_hand
        return offerings if offerings is NOT_IN_HAND else offerings[:MODEL_LISTS_PAGE]

    async def _load_offerings(
        self, info: Info[Context, None], first: int | None, offset: int | None
    ) -> list[OfferingType]:
        rows = await info.context.loaders.offerings_by_model_id.load(int(self.id))
        return await offering_types(info, _page(info, rows, first, offset))

    @strawberry.field(
        description="The active offering with a complete price that costs least at the default traffic (ties: provider slug, then providerModelId); null when none has one."
    )
    async def cheapest_offering(self, info: Info[Context, None]) -> OfferingType | None:
        loaders = info.context.loaders
        offerings = [
            row
            for row in await loaders.offerings_by_model_id.load(int(self.id))
            if row.status == "ACTIVE"
        ]
        prices = await loaders.current_price_by_offering_id.load_many([row.id for row in offerings])
        providers = await loaders.provider_by_id.load_many([row.provider_id for row in offerings])
        routes = [
            (row, price, provider.slug, row.provider_model_id)
            for row, price, provider in zip(offerings, prices, providers, strict=True)
            if provider is not None
        ]
        best = cheapest_route(routes, DEFAULT_TRAFFIC)
        return OfferingType.from_row(best) if best is not None else None

    @strawberry.field
    async def benchmarks(
        self,
        info: Info[Context, None],
        first: int | None = MODEL_LISTS_PAGE,
        offset: int | None = 0,
    ) -> list[BenchmarkScoreType]:
        rows = await info.context.loaders.scores_by_model_id.load(int(self.id))
        return [BenchmarkScoreType.from_row(row) for row in _page(info, rows, first, offset)]

    @strawberry.field(description="Oldest first; at most `first` points from `offset`.")
    async def price_history(
        self,
        info: Info[Context, None],
        provider: str | None = None,
        since: datetime | None = None,
        first: int | None = MODEL_LISTS_PAGE,
        offset: int | None = 0,
    ) -> list[PricePointType]:
        rows = _page(
            info,
            await info.context.loaders.price_history.load((int(self.id), provider, since)),
            first,
            offset,
        )
        providers = await info.context.loaders.provider_by_id.load_many(
            [offering.provider_id for _, offering in rows]
        )
        offerings = await offering_types(info, [offering for _, offering in rows], "offering")
        return [
            PricePointType(
                provider=ProviderType.from_row(provider_row),
                offering=offering,
                price=PriceType.from_row(price),
                effective_from=price.effective_from,
                effective_to=price.effective_to,
            )
            for (price, _), provider_row, offering in zip(rows, providers, offerings, strict=True)
            if provider_row is not None
        ]

    @strawberry.field(
        description="Every other name under which a feed or provider lists this model."
    )
    async def aliases(
        self,
        info: Info[Context, None],
        first: int | None = MODEL_LISTS_PAGE,
        offset: int | None = 0,
    ) -> list[ModelAliasType]:
        rows = await info.context.loaders.aliases_by_model_id.load(int(self.id))
        others = [row for row in rows if row.name != self.slug]
        return [ModelAliasType.from_row(row) for row in _page(info, others, first, offset)]

    @strawberry.field
    async def sources(
        self,
        info: Info[Context, None],
        first: int | None = MODEL_LISTS_PAGE,
        offset: int | None = 0,
    ) -> list[SourceType]:
        rows = await info.context.loaders.sources_by_model_id.load(int(self.id))
        return [SourceType.from_row(row) for row in _page(info, rows, first, offset)]

    @strawberry.field(
        description="The newest data date of any fact or price of this model (the date its sources state them as of, never a load time)."
    )
    async def last_reviewed_on(self, info: Info[Context, None]) -> date | None:
        at = await info.context.loaders.last_reviewed_by_model_id.load(int(self.id))
        return at.date() if at is not None else None


@strawberry.type(name="PageInfo")
class PageInfoType:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(name="ModelEdge")
class ModelEdgeType:
    cursor: str
    node: ModelType


@strawberry.type(name="ModelConnection")
class ModelConnectionType:
    edges: list[ModelEdgeType]
    page_info: PageInfoType
    total_count: int


async def preload_offerings(info: Info[Context, None], models: list[ModelType], *path: str) -> None:
    """For a query that asks for the offerings of these models (at `path` under this
    field): load them, with their providers and prices, one batch each for the whole page,
    so that everything below the page resolves from values in hand, not an awaitable per
    model."""
    groups = await info.context.loaders.offerings_by_model_id.load_many(
        [int(model.id) for model in models]
    )
    offerings = iter(
        await offering_types(info, [row for group in groups for row in group], *path, "offerings")
    )
    for model, group in zip(models, groups, strict=True):
        model.offerings_in_hand = [next(offerings) for _ in group]


async def model_of(info: Info[Context, None], model_id: int) -> ModelType:
    """A row's model (a foreign key, so it exists), through the request's loader."""
    row = await info.context.loaders.model_by_id.load(model_id)
    assert row is not None
    return ModelType.from_row(row)


async def provider_of(info: Info[Context, None], provider_id: int) -> ProviderType:
    row = await info.context.loaders.provider_by_id.load(provider_id)
    assert row is not None
    return ProviderType.from_row(row)
