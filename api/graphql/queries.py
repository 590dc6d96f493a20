"""Query root: the catalog."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from api.context import Context
from api.events.replay import resume_point
from api.graphql.pagination import check_first, check_offset, decode_cursor, encode_cursor
from api.graphql.selection import selected_below
from api.graphql.types.catalog import (
    CapabilityEnum,
    ModelConnectionType,
    ModelEdgeType,
    ModelType,
    PageInfoType,
    ProviderType,
    preload_offerings,
)
from api.graphql.types.comparison import (
    ComparisonErrorType,
    ComparisonResult,
    ComparisonType,
    TrafficInput,
)
from api.graphql.types.events import PriceChangeEventType
from api.services.catalog_pages import ModelsQuery, read_models_page
from api.services.comparisons import compare
from api.services.models import resolve_model_names
from schema.domain.comparison_errors import ComparisonProblem
from schema.domain.costs import DEFAULT_TRAFFIC
from schema.models import LlmModel, Provider
from schema.queries.events import select_events_after


@strawberry.input(name="ModelFilter")
class ModelFilterInput:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive match on name, slug or alias."
    )
    creator: str | None = None
    provider: str | None = None
    capabilities: list[CapabilityEnum] | None = None
    min_context_window: int | None = None
    max_output_price_per_mtok: Decimal | None = strawberry.field(
        default=None, name="maxOutputPricePerMTok"
    )


@strawberry.enum(name="ModelOrder")
class ModelOrder(Enum):
    NAME = "NAME"
    RELEASED_ON_DESC = "RELEASED_ON_DESC"
    CONTEXT_WINDOW_DESC = "CONTEXT_WINDOW_DESC"
    CHEAPEST_OUTPUT_PRICE = "CHEAPEST_OUTPUT_PRICE"


@strawberry.type
class Query:
    @strawberry.field
    async def model(self, info: Info[Context, None], slug: str) -> ModelType | None:
        async with info.context.sessions() as session:
            row = await session.scalar(select(LlmModel).where(LlmModel.slug == slug))
        return ModelType.from_row(row) if row is not None else None

    @strawberry.field
    async def models(
        self,
        info: Info[Context, None],
        filter: ModelFilterInput | None = None,
        order_by: ModelOrder | None = ModelOrder.NAME,
        first: int | None = 50,
        after: str | None = None,
    ) -> ModelConnectionType:
        context = info.context
        limit = check_first(50 if first is None else first, context.settings.max_page_size)
        offset = decode_cursor(after) + 1 if after is not None else 0
        given = filter or ModelFilterInput()
        query = ModelsQuery(
            order=(order_by or ModelOrder.NAME).value,
            offset=offset,
            limit=limit,
            search=given.search,
            creator=given.creator,
            provider=given.provider,
            capabilities=tuple(capability.value for capability in given.capabilities or ()),
            min_context_window=given.min_context_window,
            max_output_price_per_mtok=given.max_output_price_per_mtok,
        )
        loaders = context.loaders
        pages = None if _asks_no_cache(context) else context.pages
        async with loaders.sharing():  # the page and its offerings' batches: one session
            if pages is not None:
                page = await pages.models(query, loaders, context.now)
            else:
                page = await read_models_page(query, loaders, context.now)
            rows, total = page.rows, page.total
            for row in rows:
                loaders.model_by_id.prime(row.id, row)
            nodes = [ModelType.from_row(row) for row in rows]
            if "offerings" in selected_below(info, "edges", "node"):
                if pages is not None:
                    await pages.routes(page, loaders, context.now)
                await preload_offerings(info, nodes, "edges", "node")
        edges = [
            ModelEdgeType(cursor=encode_cursor(offset + index), node=node)
            for index, node in enumerate(nodes)
        ]
        return ModelConnectionType(
            edges=edges,
            page_info=PageInfoType(
                has_next_page=offset + len(rows) < total,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )

    @strawberry.field(
        description="The canonical model that a name or a provider's model id resolves to, by the documented rules; null when none."
    )
    async def resolve_model(self, info: Info[Context, None], name: str) -> ModelType | None:
        async with info.context.sessions() as session:
            model = (await resolve_model_names(session, [name]))[name]
        return ModelType.from_row(model) if model is not None else None

    @strawberry.field(
        description="Recorded price changes, oldest first, after the given event id; an id older than the retention, or unknown, is an EVENTS_EXPIRED error."
    )
    async def price_changes(
        self, info: Info[Context, None], after: strawberry.ID | None = None, first: int | None = 100
    ) -> list[PriceChangeEventType]:
        limit = check_first(100 if first is None else first, info.context.settings.max_page_size)
        async with info.context.sessions() as session:
            after_id = await resume_point(
                session,
                after,
                now=info.context.now,
                retention_days=info.context.settings.event_retention_days,
            )
            rows = await session.scalars(select_events_after(after_id, limit))
            return [PriceChangeEventType.from_row(row) for row in rows]

    @strawberry.field(
        description="2 to 4 model slugs (or names that resolveModel resolves); without traffic, 560M input and 300M output tokens a month."
    )
    async def comparison(
        self, info: Info[Context, None], models: list[str], traffic: TrafficInput | None = None
    ) -> ComparisonResult:
        context = info.context
        result = await compare(
            names=models,
            traffic=traffic.to_domain() if traffic is not None else DEFAULT_TRAFFIC,
            loaders=context.loaders,
            cache=context.cache,
            now=context.now,
            use_cache=not _asks_no_cache(context),
        )
        if isinstance(result, ComparisonProblem):
            return ComparisonErrorType.from_problem(result)
        return ComparisonType.from_resolved(result)

    @strawberry.field
    async def provider(self, info: Info[Context, None], slug: str) -> ProviderType | None:
        async with info.context.sessions() as session:
            row = await session.scalar(select(Provider).where(Provider.slug == slug))
        return ProviderType.from_row(row) if row is not None else None

    @strawberry.field(description="By slug; at most `first` providers from `offset`.")
    async def providers(
        self, info: Info[Context, None], first: int | None = 100, offset: int | None = 0
    ) -> list[ProviderType]:
        limit = check_first(100 if first is None else first, info.context.settings.max_page_size)
        statement = select(Provider).order_by(Provider.slug).offset(check_offset(offset))
        async with info.context.sessions() as session:
            rows = await session.scalars(statement.limit(limit))
            return [ProviderType.from_row(row) for row in rows]


def _asks_no_cache(context: Context) -> bool:
    """`Cache-Control: no-cache` on the request computes afresh (for ops and benchmarks)."""
    headers = getattr(context.request, "headers", None)
    return headers is not None and "no-cache" in headers.get("cache-control", "")
