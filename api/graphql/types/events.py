"""Price-change events."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.context import Context
from api.graphql.permissions import has_ops_role
from api.graphql.types.catalog import (
    ModelType,
    OfferingType,
    PriceType,
    ProviderType,
    model_of,
    provider_of,
)
from api.graphql.types.feeds import FeedRunType
from schema.models import PriceChangeEvent


@strawberry.enum(name="PriceChangeKind")
class PriceChangeKindEnum(Enum):
    ADDED = "ADDED"
    CHANGED = "CHANGED"
    REMOVED = "REMOVED"


@strawberry.type(name="PriceChangeEvent")
class PriceChangeEventType:
    id: strawberry.ID = strawberry.field(
        description="Position in the event stream; pass it back as 'after' to resume."
    )
    kind: PriceChangeKindEnum
    previous: PriceType | None
    current: PriceType | None
    occurred_at: datetime
    model_id: strawberry.Private[int]
    provider_id: strawberry.Private[int]
    offering_id: strawberry.Private[int]
    feed_run_id: strawberry.Private[int | None] = None

    @classmethod
    def from_row(cls, row: PriceChangeEvent) -> PriceChangeEventType:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=PriceChangeKindEnum(row.kind),
            previous=PriceType.from_row(row.previous) if row.previous is not None else None,
            current=PriceType.from_row(row.current) if row.current is not None else None,
            occurred_at=row.occurred_at,
            model_id=row.model_id,
            provider_id=row.provider_id,
            offering_id=row.offering_id,
            feed_run_id=row.feed_run_id,
        )

    @strawberry.field
    async def model(self, info: Info[Context, None]) -> ModelType:
        return await model_of(info, self.model_id)

    @strawberry.field
    async def provider(self, info: Info[Context, None]) -> ProviderType:
        return await provider_of(info, self.provider_id)

    @strawberry.field
    async def offering(self, info: Info[Context, None]) -> OfferingType:
        row = await info.context.loaders.offering_by_id.load(self.offering_id)
        assert row is not None
        return OfferingType.from_row(row)

    @strawberry.field(
        description="(ops) The run that recorded it; null for callers without the ops role."
    )
    async def feed_run(self, info: Info[Context, None]) -> FeedRunType | None:
        if self.feed_run_id is None or not await has_ops_role(info):
            return None
        row = await info.context.loaders.feed_run_by_id.load(self.feed_run_id)
        return FeedRunType.from_row(row) if row is not None else None
