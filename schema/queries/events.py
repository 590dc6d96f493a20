"""Statement builders for price-change events."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, select

from schema.models import LlmModel, PriceChangeEvent, Provider


def select_events_after(after_id: int, limit: int) -> Select[PriceChangeEvent]:
    """Recorded events after ``after_id``, oldest first (ids follow commit order)."""
    return (
        select(PriceChangeEvent)
        .where(PriceChangeEvent.id > after_id)
        .order_by(PriceChangeEvent.id)
        .limit(limit)
    )


def select_events_with_slugs(
    after_id: int,
    limit: int,
    *,
    up_to: int | None = None,
    models: Collection[str] = (),
    providers: Collection[str] = (),
) -> Select[PriceChangeEvent, str, str]:
    """Events after ``after_id`` (up to ``up_to``) with their model and provider slugs,
    oldest first, optionally only those of some models or providers."""
    statement = (
        select(PriceChangeEvent, LlmModel.slug, Provider.slug)
        .join(LlmModel, LlmModel.id == PriceChangeEvent.model_id)
        .join(Provider, Provider.id == PriceChangeEvent.provider_id)
        .where(PriceChangeEvent.id > after_id)
        .order_by(PriceChangeEvent.id)
        .limit(limit)
    )
    if up_to is not None:
        statement = statement.where(PriceChangeEvent.id <= up_to)
    if models:
        statement = statement.where(LlmModel.slug.in_(models))
    if providers:
        statement = statement.where(Provider.slug.in_(providers))
    return statement


def select_event_time(event_id: int) -> Select[datetime]:
    return select(PriceChangeEvent.occurred_at).where(PriceChangeEvent.id == event_id)
