"""Price-change events after commit: bump cache generations, mark published, XADD.

The event rows are the outbox. In this order, never before the commit that wrote them:
1. bump the cache generation of every model whose routes or prices changed, and the
   catalog's generation (also after a commit that changed anything else the API shows:
   names, aliases, facts, models, providers);
2. mark the events published;
3. XADD one message per event to the stream (bounded length).
So no subscriber can hear of an event before the cache knows it. When the bump fails
(Redis down) the events stay unpublished, and the sweep publishes them later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from schema.cache import LocalCache
from schema.db.engine import session_scope
from schema.models import LlmModel, PriceChangeEvent, Provider

log = logging.getLogger("llmref.events")

STREAM = "llmref:events:price-changes"
STREAM_MAX_LENGTH = 10_000

Bump = Callable[[Iterable[int]], None]
"""Bump these models' generations and the catalog's."""
Xadd = Callable[[list[dict[str, str]]], None]


class Publish(Protocol):
    def __call__(self, model_ids: Iterable[int], *, catalog_changed: bool = True) -> None:
        """After a commit: publish the pending events and bump the generations of
        ``model_ids`` (routes or prices changed) and of the models with events; bump the
        catalog's generation with them, and also without any when ``catalog_changed``
        (the commit changed what the API shows). ``catalog_changed=False``: nothing was
        committed (the sweep publishing what an outage left)."""


def stream_message(event_id: int, model_slug: str, provider_slug: str, kind: str) -> dict[str, str]:
    """A stream entry is a wake-up with filters; the event itself is read from the database."""
    return {"id": str(event_id), "model": model_slug, "provider": provider_slug, "kind": kind}


def publish_pending(
    sessions: sessionmaker[Session],
    *,
    bump: Bump,
    xadd: Xadd,
    now: Callable[[], datetime],
    extra_model_ids: Iterable[int] = (),
    catalog_changed: bool = False,
    limit: int = 5_000,
) -> int:
    """Publish every unpublished event (oldest first); returns how many were published.

    ``extra_model_ids``: models whose routes changed without a price event (a context
    window, a status); their generations are bumped too. ``catalog_changed``: bump the
    catalog's generation even with no model to bump.
    """
    with session_scope(sessions) as session:
        rows = session.execute(
            select(
                PriceChangeEvent.id,
                PriceChangeEvent.model_id,
                PriceChangeEvent.kind,
                LlmModel.slug,
                Provider.slug,
            )
            .join(LlmModel, LlmModel.id == PriceChangeEvent.model_id)
            .join(Provider, Provider.id == PriceChangeEvent.provider_id)
            .where(PriceChangeEvent.published_at.is_(None))
            .order_by(PriceChangeEvent.id)
            .limit(limit)
        ).all()
    model_ids = {*extra_model_ids, *(row[1] for row in rows)}
    if model_ids or catalog_changed:
        bump(model_ids)  # raises: the events stay unpublished
    if not rows:
        return 0
    with session_scope(sessions) as session:
        session.execute(
            update(PriceChangeEvent)
            .where(
                PriceChangeEvent.id.in_([row[0] for row in rows]),
                PriceChangeEvent.published_at.is_(None),
            )
            .values(published_at=now())
        )
    try:
        xadd(
            [
                stream_message(event_id, model, provider, kind)
                for event_id, _, kind, model, provider in rows
            ]
        )
    except Exception:  # the stream is only a wake-up; readers also poll the database
        log.exception(
            "could not XADD %d published events; readers will find them by polling", len(rows)
        )
    return len(rows)


def redis_bump_and_xadd(redis_url: str) -> tuple[Bump, Xadd]:
    """The production pair: INCR generations and XADD to the stream, in Redis."""
    import redis

    from schema.cache import CATALOG_GENERATION_KEY, generation_key

    def client() -> redis.Redis:
        return redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)

    def bump(model_ids: Iterable[int]) -> None:
        with client() as connection, connection.pipeline(transaction=False) as pipeline:
            for model_id in sorted(set(model_ids)):
                pipeline.incr(generation_key(model_id))
            pipeline.incr(CATALOG_GENERATION_KEY)
            pipeline.execute()

    def xadd(messages: list[dict[str, str]]) -> None:
        if not messages:
            return
        with client() as connection, connection.pipeline(transaction=False) as pipeline:
            for message in messages:
                pipeline.xadd(STREAM, message, maxlen=STREAM_MAX_LENGTH, approximate=True)
            pipeline.execute()

    return bump, xadd


def local_bump_and_xadd(
    cache: LocalCache, notify: Callable[[], None] = lambda: None
) -> tuple[Bump, Xadd]:
    """The embedded pair: the app's in-process cache generations and an in-process wake-up."""

    def xadd(messages: list[dict[str, str]]) -> None:
        if messages:
            notify()

    return cache.bump, xadd


def publisher(
    sessions: sessionmaker[Session],
    *,
    redis_url: str | None,
    local_cache: LocalCache | None = None,
    notify: Callable[[], None] = lambda: None,
    now: Callable[[], datetime],
) -> Publish:
    """What to run after a commit (``Publish``), in Redis when configured, else in this
    process."""
    bump, xadd = (
        redis_bump_and_xadd(redis_url)
        if redis_url
        else local_bump_and_xadd(local_cache or LocalCache(), notify)
    )

    def publish(model_ids: Iterable[int], *, catalog_changed: bool = True) -> None:
        publish_pending(
            sessions,
            bump=bump,
            xadd=xadd,
            now=now,
            extra_model_ids=model_ids,
            catalog_changed=catalog_changed,
        )

    return publish
