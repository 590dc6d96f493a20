"""Where a resuming client starts: the event it names must still be kept."""

from __future__ import annotations

from datetime import datetime, timedelta

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession

from schema.queries.events import select_event_time

MAX_EVENT_ID = 2**63 - 1


async def resume_point(
    session: AsyncSession, after: str | None, *, now: datetime, retention_days: int
) -> int:
    """The event id to resume after (0 for none); EVENTS_EXPIRED when that event is
    unknown or older than the retention."""
    if after is None:
        return 0
    at = None
    if after.isascii() and after.isdigit() and int(after) <= MAX_EVENT_ID:
        at = await session.scalar(select_event_time(int(after)))
    if at is None or at < now - timedelta(days=retention_days):
        raise GraphQLError(
            f"event {after!r} is not kept (unknown, or older than {retention_days} days): "
            "start again without 'after'",
            extensions={"code": "EVENTS_EXPIRED"},
        )
    return int(after)
