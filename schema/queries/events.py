"""Statement builders for price-change events."""

from __future__ import annotations

from sqlalchemy import Select, select

from schema.models import PriceChangeEvent


def select_events_after(after_id: int, limit: int) -> Select[tuple[PriceChangeEvent]]:
    """Recorded events after ``after_id``, oldest first (ids follow commit order)."""
    return (
        select(PriceChangeEvent)
        .where(PriceChangeEvent.id > after_id)
        .order_by(PriceChangeEvent.id)
        .limit(limit)
    )


def select_event_id(event_id: int) -> Select[tuple[int]]:
    return select(PriceChangeEvent.id).where(PriceChangeEvent.id == event_id)
