"""One event reader per API process, fanning price-change events out to its subscribers.

The stream (Redis) or the in-process runner only wakes the reader up. On every wake-up,
and every few seconds without one, it reads from the database the events after the last
one it delivered that are already published, in id order, stopping at the first that is
not (so a late or repeated stream message can neither reorder nor skip events, and no
event reaches a client before its cache bump). Each subscriber has a bounded queue; a
subscriber that lets it overflow is dropped and ended with SLOW_CONSUMER, never slowing
the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schema.events import STREAM
from schema.models import PriceChangeEvent
from schema.queries.events import select_events_with_slugs

log = logging.getLogger("llmref.events")
BATCH = 500


class SlowConsumer(Exception):
    pass


@dataclass(frozen=True)
class Delivered:
    """An event with the slugs subscribers filter on."""

    event: PriceChangeEvent
    model: str
    provider: str


@dataclass(eq=False)
class Subscriber:
    models: frozenset[str]
    providers: frozenset[str]
    queue: asyncio.Queue[Delivered]
    overflowed: bool = False

    def wants(self, item: Delivered) -> bool:
        return (not self.models or item.model in self.models) and (
            not self.providers or item.provider in self.providers
        )

    async def next(self) -> Delivered:
        if self.overflowed and self.queue.empty():
            raise SlowConsumer
        return await self.queue.get()


@dataclass(eq=False)
class EventHub:
    sessions: async_sessionmaker[AsyncSession]
    redis_url: str | None
    poll_seconds: float
    queue_size: int
    subscribers: set[Subscriber] = field(default_factory=set)
    last_delivered: int = 0
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="llmref-event-hub")

    async def _find_start(self) -> None:
        """Where delivery starts; retried until the database answers (a process must be
        able to start, and say it is not ready, before its database is migrated)."""
        while True:
            try:
                async with self.sessions() as session:
                    self.last_delivered = await _last_published_id(session)
                self._ready.set()
                return
            except Exception as error:  # noqa: BLE001
                log.warning("event hub waiting for the database: %s", error)
                await asyncio.sleep(self.poll_seconds)

    async def ready(self) -> None:
        """Returns once the hub knows where delivery starts."""
        await self._ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def notify(self) -> None:
        """Wake the reader (thread-safe: the embedded runner calls it from a thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def subscribe(
        self, models: list[str] | None, providers: list[str] | None
    ) -> tuple[Subscriber, int]:
        """A new subscriber and the last event id delivered before it joined, once the hub
        knows where delivery starts (no await between joining and reading that id, so every
        later event reaches its queue and every earlier one is replayable)."""
        await self._ready.wait()
        subscriber = Subscriber(
            frozenset(models or ()), frozenset(providers or ()), asyncio.Queue(self.queue_size)
        )
        self.subscribers.add(subscriber)
        return subscriber, self.last_delivered

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def _run(self) -> None:
        await self._find_start()
        client = aioredis.Redis.from_url(self.redis_url) if self.redis_url else None
        stream_id = "$"
        try:
            while True:
                if client is not None:
                    stream_id = await self._wait_on_stream(client, stream_id)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_seconds)
                    self._wakeup.clear()
                try:
                    await self.deliver_new()
                except Exception:  # the next wake-up or poll tries again
                    log.exception("reading price-change events failed")
        finally:
            if client is not None:
                await client.aclose()

    async def _wait_on_stream(self, client: aioredis.Redis, stream_id: str) -> str:
        try:
            # These connections get RESP2's shape: [[stream, [(id, fields), ...]], ...].
            answer = cast(
                "list[list[Any]]",
                await client.xread(
                    {STREAM: stream_id}, block=int(self.poll_seconds * 1000), count=100
                ),
            )
        except (RedisError, OSError) as error:
            log.warning("event stream unavailable (%s); polling the database", error)
            await asyncio.sleep(self.poll_seconds)
            return stream_id
        for _stream, messages in answer or ():
            if messages:
                stream_id = (
                    messages[-1][0].decode()
                    if isinstance(messages[-1][0], bytes)
                    else messages[-1][0]
                )
        return stream_id

    async def deliver_new(self) -> None:
        while True:
            async with self.sessions() as session:
                rows = (
                    await session.execute(select_events_with_slugs(self.last_delivered, BATCH))
                ).all()
            for event, model, provider in rows:
                if event.published_at is None:
                    return  # not yet announced (its cache bump may not have happened)
                self._fan_out(Delivered(event, model, provider))
                self.last_delivered = event.id
            if len(rows) < BATCH:
                return

    def _fan_out(self, item: Delivered) -> None:
        for subscriber in list(self.subscribers):
            if not subscriber.wants(item):
                continue
            try:
                subscriber.queue.put_nowait(item)
            except asyncio.QueueFull:
                subscriber.overflowed = True
                self.subscribers.discard(subscriber)


async def _last_published_id(session: AsyncSession) -> int:
    """The end of the published prefix: events up to it are all published."""
    unpublished = await session.scalar(
        select(func.min(PriceChangeEvent.id)).where(PriceChangeEvent.published_at.is_(None))
    )
    if unpublished is not None:
        return int(unpublished) - 1
    return int(await session.scalar(select(func.max(PriceChangeEvent.id))) or 0)
