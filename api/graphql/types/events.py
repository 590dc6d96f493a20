"""Price-change events."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.context import Context
from api.graphql.types.catalog import ModelType, OfferingType, PriceType, ProviderType
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
        )

    @strawberry.field
    async def model(self, info: Info[Context, None]) -> ModelType:
        row = await info.context.loaders.model_by_id.load(self.model_id)
        assert row is not None
        return ModelType.from_row(row)

    @strawberry.field
    async def provider(self, info: Info[Context, None]) -> ProviderType:
        row = await info.context.loaders.provider_by_id.load(self.provider_id)
        assert row is not None
        return ProviderType.from_row(row)

    @strawberry.field
    async def offering(self, info: Info[Context, None]) -> OfferingType:
        row = await info.context.loaders.offering_by_id.load(self.offering_id)
        assert row is not None
        return OfferingType.from_row(row)
