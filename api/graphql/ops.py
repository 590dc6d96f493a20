"""Ops queries and mutations: feed sources and runs, held price changes, unmatched names.

Every field checks the ops role first (require_ops), before it reads or changes anything.
Mutations run one unit of work that the resolver commits; side effects (enqueueing a run)
happen only after that commit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import strawberry
from graphql import GraphQLError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from strawberry.types import Info

from api.context import Context
from api.graphql.errors import bad_input
from api.graphql.pagination import check_first, decode_cursor, encode_cursor
from api.graphql.permissions import require_ops
from api.graphql.types.feeds import FeedRunType, FeedSourceType, ResyncPayloadType
from api.graphql.types.holds import (
    HeldChangeStatusEnum,
    HeldPriceChangeType,
    UnmatchedNameKindEnum,
    UnmatchedNameType,
)
from schema.ingest.scheduling import UnknownFeedSource, queue_run
from schema.models import FeedRun, FeedSource, HeldPriceChange, UnmatchedName
from schema.services.feed_sources import KIND_RANK, FeedSourceError, update_feed_source
from schema.services.holds import HoldConflict, HoldNotFound, approve_hold, reject_hold

log = logging.getLogger("llmref.ops")

MAX_ROW_ID = 2**31 - 1
"""Integer primary keys (PostgreSQL `integer`): a larger id names no row, and asking
PostgreSQL for it would be an out-of-range error rather than a miss."""


def not_found(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "NOT_FOUND"})


def conflict(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "CONFLICT"})


@strawberry.type
class OpsQuery:
    @strawberry.field(description="(ops)")
    async def feed_sources(self, info: Info[Context, None]) -> list[FeedSourceType]:
        await require_ops(info)
        async with info.context.sessions() as session:
            rows = await session.scalars(select(FeedSource).order_by(FeedSource.slug))
            return [FeedSourceType.from_row(row) for row in rows]

    @strawberry.field(description="(ops)")
    async def feed_run(self, info: Info[Context, None], id: strawberry.ID) -> FeedRunType | None:
        await require_ops(info)
        run_id = _row_id(id)
        row = await info.context.loaders.feed_run_by_id.load(run_id) if run_id else None
        if row is None:
            raise not_found(f"no feed run with id {id!r}")
        return FeedRunType.from_row(row)

    @strawberry.field(description="(ops)")
    async def feed_runs(
        self, info: Info[Context, None], source: str | None = None, first: int | None = 20
    ) -> list[FeedRunType]:
        await require_ops(info)
        limit = check_first(20 if first is None else first, info.context.settings.max_page_size)
        statement = select(FeedRun).order_by(FeedRun.id.desc()).limit(limit)
        async with info.context.sessions() as session:
            if source is not None:
                feed = await _known_source(session, source)
                statement = statement.where(FeedRun.source_id == feed.id)
            rows = await session.scalars(statement)
            return [FeedRunType.from_row(row) for row in rows]

    @strawberry.field(description="(ops) Newest first; PENDING only unless a status is given.")
    async def held_price_changes(
        self,
        info: Info[Context, None],
        status: HeldChangeStatusEnum | None = None,
        first: int | None = 50,
    ) -> list[HeldPriceChangeType]:
        await require_ops(info)
        limit = check_first(50 if first is None else first, info.context.settings.max_page_size)
        wanted = (status or HeldChangeStatusEnum.PENDING).value
        async with info.context.sessions() as session:
            rows = await session.scalars(
                select(HeldPriceChange)
                .where(HeldPriceChange.status == wanted)
                .order_by(HeldPriceChange.held_at.desc(), HeldPriceChange.id.desc())
                .limit(limit)
            )
            return [HeldPriceChangeType.from_row(row) for row in rows]

    @strawberry.field(
        description="(ops) Names no model matches or held apart from one, with the reason, most recently seen first; page with `after` (a name's cursor)."
    )
    async def unmatched_names(
        self,
        info: Info[Context, None],
        source: str | None = None,
        first: int | None = 100,
        after: str | None = None,
        kind: UnmatchedNameKindEnum | None = None,
    ) -> list[UnmatchedNameType]:
        await require_ops(info)
        limit = check_first(100 if first is None else first, info.context.settings.max_page_size)
        offset = decode_cursor(after) + 1 if after is not None else 0
        statement = (
            select(UnmatchedName)
            .order_by(
                UnmatchedName.last_seen_at.desc(),
                UnmatchedName.source,
                UnmatchedName.name,
                UnmatchedName.provider_slug,
                UnmatchedName.kind,
            )
            .offset(offset)
            .limit(limit)
        )
        if kind is not None:
            statement = statement.where(UnmatchedName.kind == kind.value)
        async with info.context.sessions() as session:
            if source is not None:
                await _known_source(session, source)
                statement = statement.where(UnmatchedName.source == source)
            rows = await session.scalars(statement)
            return [
                UnmatchedNameType.from_row(row, encode_cursor(offset + index))
                for index, row in enumerate(rows)
            ]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="(ops) Queue a re-sync of one feed now; while one is queued or running, that run is returned (a running run whose process is gone, its lease passed, is ended FAILED and a new run queued)."
    )
    async def resync_feed(self, info: Info[Context, None], source: str) -> ResyncPayloadType:
        await require_ops(info)
        context = info.context
        async with unit_of_work(context) as session:
            await _known_source(session, source)
            try:
                run, created = await session.run_sync(_queue_run, source, context.now)
            except UnknownFeedSource as error:  # removed since the check above
                raise not_found(str(error)) from None
        if created:
            await _enqueue_run(context, run.id)
        return ResyncPayloadType(run=FeedRunType.from_row(run))

    @strawberry.mutation(
        description="(ops) Change a feed source; an argument left out stays as it is. A new url forgets the old one's ETag and Last-Modified and makes the source due at the next scheduler tick; rank: null ranks it as its kind again, and the shown prices are resolved again at once (with events)."
    )
    async def set_feed_source(
        self,
        info: Info[Context, None],
        slug: str,
        url: str | None = strawberry.UNSET,
        interval_seconds: int | None = strawberry.UNSET,
        enabled: bool | None = strawberry.UNSET,
        rank: int | None = strawberry.UNSET,
    ) -> FeedSourceType:
        await require_ops(info)
        context = info.context
        for name, value in (
            ("url", url),
            ("intervalSeconds", interval_seconds),
            ("enabled", enabled),
        ):
            if value is None:
                raise bad_input(f"{name} cannot be null: leave it out to keep it")
        try:
            async with unit_of_work(context) as session:
                update = await session.run_sync(
                    lambda sync_session: update_feed_source(
                        sync_session,
                        slug,
                        url=None if url is strawberry.UNSET else url,
                        interval_seconds=None
                        if interval_seconds is strawberry.UNSET
                        else interval_seconds,
                        enabled=None if enabled is strawberry.UNSET else enabled,
                        rank=None
                        if rank is strawberry.UNSET
                        else KIND_RANK
                        if rank is None
                        else rank,
                        now=context.now,
                    )
                )
        except UnknownFeedSource as error:
            raise not_found(str(error)) from None
        except FeedSourceError as error:
            raise bad_input(str(error)) from None
        if update.events:
            try:
                await context.publish({event.model_id for event in update.events})
            except Exception:  # the outbox rows stay; the sweep publishes them
                log.exception(
                    "publishing the re-ranked prices of %s failed; the sweep will retry", slug
                )
        return FeedSourceType.from_row(update.source)

    @strawberry.mutation(
        description="(ops) Apply a PENDING held change as that feed's observation (and, where it resolves, the current price, with its event); deciding twice is a CONFLICT error."
    )
    async def approve_price_change(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> HeldPriceChangeType:
        await require_ops(info)
        return await _decide(info.context, id, _approve)

    @strawberry.mutation(
        description="(ops) Discard a PENDING held change; deciding twice is a CONFLICT error."
    )
    async def reject_price_change(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> HeldPriceChangeType:
        await require_ops(info)
        return await _decide(info.context, id, reject_hold)


@asynccontextmanager
async def unit_of_work(context: Context) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back on any error."""
    async with context.sessions() as session, session.begin():
        yield session


def _row_id(id: str) -> int | None:
    """The integer primary key an ID names, or None when it cannot name a row."""
    return int(id) if id.isascii() and id.isdigit() and 0 < int(id) <= MAX_ROW_ID else None


async def _known_source(session: AsyncSession, slug: str) -> FeedSource:
    row = await session.scalar(select(FeedSource).where(FeedSource.slug == slug))
    if row is None:
        known = ", ".join(await session.scalars(select(FeedSource.slug).order_by(FeedSource.slug)))
        raise not_found(f"unknown feed source {slug!r} (known: {known})")
    return row


def _queue_run(session: Session, slug: str, now: datetime) -> tuple[FeedRun, bool]:
    return queue_run(session, slug, now=now)


async def _enqueue_run(context: Context, run_id: int) -> None:
    """Hand a committed run to the workers (or the embedded runner).

    The run row is durable, so a failure here is logged, not raised: the scheduler's sweep
    hands a run that stays QUEUED too long to a worker again.
    """
    try:
        await context.enqueue_run(run_id)
    except Exception:  # the sweep recovers; the caller still gets the run
        log.exception("could not enqueue feed run %s; the sweep will hand it on", run_id)


def _approve(session: Session, hold_id: int, *, now: datetime) -> HeldPriceChange:
    hold, _events = approve_hold(session, hold_id, now=now)
    return hold


async def _decide(
    context: Context, id: str, decide: Callable[..., HeldPriceChange]
) -> HeldPriceChangeType:
    """Decide a hold in one unit of work; then publish what an approval changed (the
    events are the outbox rows: if publishing fails, the sweep publishes them)."""
    hold_id = _row_id(id)
    if hold_id is None:
        raise not_found(f"no held price change with id {id!r}")
    try:
        async with unit_of_work(context) as session:
            row = await session.run_sync(
                lambda sync_session: decide(sync_session, hold_id, now=context.now)
            )
    except HoldNotFound as error:
        raise not_found(str(error) or f"no held price change with id {id!r}") from None
    except HoldConflict as error:
        raise conflict(str(error) or f"held price change {id} was already decided") from None
    if row.status == "APPROVED":
        try:
            await context.publish(await _model_of(context, row.offering_id))
        except Exception:  # the outbox rows stay; the sweep publishes them
            log.exception("publishing approved change %s failed; the sweep will retry", row.id)
    return HeldPriceChangeType.from_row(row)


async def _model_of(context: Context, offering_id: int) -> list[int]:
    offering = await context.loaders.offering_by_id.load(offering_id)
    return [offering.model_id] if offering is not None else []
