"""Held price changes and unmatched feed names (ops)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.context import Context
from api.graphql.types.catalog import OfferingType, PriceType
from api.graphql.types.feeds import FeedRunType
from schema.models import HeldPriceChange, UnmatchedName


@strawberry.enum(name="HeldChangeStatus")
class HeldChangeStatusEnum(Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SUPERSEDED = strawberry.enum_value(
        "SUPERSEDED",
        description="A later observation from the same feed replaced it before a decision.",
    )


@strawberry.type(
    name="HeldPriceChange",
    description="A feed's price observation held back as implausible until ops approve or reject it. (ops)",
)
class HeldPriceChangeType:
    id: strawberry.ID
    source: str
    current: PriceType | None
    proposed: PriceType
    reason: str
    status: HeldChangeStatusEnum
    held_at: datetime
    decided_at: datetime | None
    offering_id: strawberry.Private[int]
    feed_run_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: HeldPriceChange) -> HeldPriceChangeType:
        return cls(
            id=strawberry.ID(str(row.id)),
            source=row.source,
            current=PriceType.from_row(row.current) if row.current is not None else None,
            proposed=PriceType.from_row(row.proposed),
            reason=row.reason,
            status=HeldChangeStatusEnum(row.status),
            held_at=row.held_at,
            decided_at=row.decided_at,
            offering_id=row.offering_id,
            feed_run_id=row.feed_run_id,
        )

    @strawberry.field
    async def offering(self, info: Info[Context, None]) -> OfferingType:
        row = await info.context.loaders.offering_by_id.load(self.offering_id)
        assert row is not None
        return OfferingType.from_row(row)

    @strawberry.field
    async def feed_run(self, info: Info[Context, None]) -> FeedRunType | None:
        if self.feed_run_id is None:
            return None
        row = await info.context.loaders.feed_run_by_id.load(self.feed_run_id)
        return FeedRunType.from_row(row) if row is not None else None


@strawberry.enum(name="UnmatchedNameKind")
class UnmatchedNameKindEnum(Enum):
    UNMATCHED = strawberry.enum_value(
        "UNMATCHED", description="No model: no feed that creates models ties the name to one."
    )
    HELD_APART = strawberry.enum_value(
        "HELD_APART",
        description="Kept apart from the model its spelling matches (merge guard or a curated distinct entry).",
    )


@strawberry.type(
    name="UnmatchedName",
    description="A name a feed uses that matches no model, or that the identity rules hold apart from one; a curated alias or distinct entry in identity.yaml fixes it. (ops)",
)
class UnmatchedNameType:
    name: str
    source: str
    provider_slug: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    kind: UnmatchedNameKindEnum
    reason: str | None
    cursor: str = strawberry.field(description="Pass as `after` to get the names after this one.")

    @classmethod
    def from_row(cls, row: UnmatchedName, cursor: str) -> UnmatchedNameType:
        return cls(
            name=row.name,
            source=row.source,
            provider_slug=row.provider_slug or None,
            first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at,
            kind=UnmatchedNameKindEnum(row.kind),
            reason=row.reason,
            cursor=cursor,
        )
