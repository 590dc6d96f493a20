"""Feed sources and their runs (ops). Reachable only through fields that check the role."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.context import Context
from schema.models import FeedRun, FeedSource
from schema.services.source_priority import effective_rank


@strawberry.enum(name="FeedRunStatus")
class FeedRunStatusEnum(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    UNCHANGED = "UNCHANGED"
    FAILED = "FAILED"


@strawberry.type(name="FeedSource")
class FeedSourceType:
    slug: str
    kind: str
    url: str
    interval_seconds: int
    enabled: bool
    rank: int = strawberry.field(
        description="Source priority, lower wins: the rank set on the source, else its kind's."
    )
    rank_override: int | None = strawberry.field(
        description="The rank set on the source; null when it ranks as its kind does."
    )
    source_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: FeedSource) -> FeedSourceType:
        return cls(
            slug=row.slug,
            kind=row.kind,
            url=row.url,
            interval_seconds=row.interval_seconds,
            enabled=row.enabled,
            rank=effective_rank(row.kind, row.rank),
            rank_override=row.rank,
            source_id=row.id,
        )

    @strawberry.field
    async def last_run(self, info: Info[Context, None]) -> FeedRunType | None:
        row = await info.context.loaders.last_run_by_source_id.load(self.source_id)
        return FeedRunType.from_row(row) if row is not None else None


@strawberry.type(name="FeedRun")
class FeedRunType:
    id: strawberry.ID
    status: FeedRunStatusEnum
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    seen: int
    added: int
    changed: int
    removed: int
    unmatched: int
    invalid: int = strawberry.field(
        description="Records skipped as invalid (bad price, no id); the error text names them."
    )
    held: int = strawberry.field(description="Price changes held back for review as implausible.")
    error: str | None
    source_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: FeedRun) -> FeedRunType:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=FeedRunStatusEnum(row.status),
            queued_at=row.queued_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            seen=row.seen,
            added=row.added,
            changed=row.changed,
            removed=row.removed,
            unmatched=row.unmatched,
            invalid=row.invalid,
            held=row.held,
            error=row.error,
            source_id=row.source_id,
        )

    @strawberry.field
    async def source(self, info: Info[Context, None]) -> FeedSourceType:
        row = await info.context.loaders.feed_source_by_id.load(self.source_id)
        assert row is not None
        return FeedSourceType.from_row(row)


@strawberry.type(name="ResyncPayload")
class ResyncPayloadType:
    run: FeedRunType
