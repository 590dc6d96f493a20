"""Subscription root: live price changes, with resume."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from functools import lru_cache

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from api.context import Context
from api.events.hub import Delivered, SlowConsumer
from api.events.replay import resume_point
from api.graphql.types.events import PriceChangeEventType
from api.services.loaders import create_loaders
from schema.queries.events import select_events_with_slugs

REPLAY_BATCH = 500


def _emit(info: Info[Context, None], item: Delivered) -> PriceChangeEventType:
    """Fresh loaders and clock per emitted event: nothing cached across a long connection."""
    now = datetime.now(UTC)
    info.context.now = now
    info.context.loaders = create_loaders(info.context.sessions, now)
    return _event_type(item)


@lru_cache(maxsize=64)
def _event_type(item: Delivered) -> PriceChangeEventType:
    """One object per delivered event for all the subscribers the hub hands it to."""
    return PriceChangeEventType.from_row(item.event)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Live price changes, optionally filtered; with 'after', first replays what was missed (EVENTS_EXPIRED when that id is no longer kept). A client too slow to keep up is ended with a SLOW_CONSUMER error and resumes with 'after'."
    )
    async def price_changes(
        self,
        info: Info[Context, None],
        models: list[str] | None = None,
        providers: list[str] | None = None,
        after: strawberry.ID | None = None,
    ) -> AsyncGenerator[PriceChangeEventType, None]:
        context = info.context
        async with context.sessions() as session:
            after_id = await resume_point(
                session,
                after,
                now=datetime.now(UTC),
                retention_days=context.settings.event_retention_days,
            )
        subscriber, joined_after = await context.hub.subscribe(models, providers)
        try:
            last = after_id
            if after is not None:
                while last < joined_after:
                    async with context.sessions() as session:
                        statement = select_events_with_slugs(
                            last,
                            REPLAY_BATCH,
                            up_to=joined_after,
                            models=models or (),
                            providers=providers or (),
                        )
                        rows = (await session.execute(statement)).all()
                    if not rows:
                        break
                    for event, model, provider in rows:
                        last = event.id
                        yield _emit(info, Delivered(event, model, provider))
            while True:
                try:
                    item = await subscriber.next()
                except SlowConsumer:
                    raise GraphQLError(
                        f'too slow to keep up: resume with after: "{last}"',
                        extensions={"code": "SLOW_CONSUMER", "after": str(last)},
                    ) from None
                if item.event.id <= last:
                    continue
                last = item.event.id
                yield _emit(info, item)
        finally:
            context.hub.unsubscribe(subscriber)
