"""Resolved prices: turn each source's observations of a route into the price shown.

Services never commit; the caller's unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from schema.domain.prices import PriceValue, winning_observation
from schema.models import ObservedPrice, Offering, Price, PriceChangeEvent, Provider


@dataclass(frozen=True)
class ResolvedChange:
    event: PriceChangeEvent
    model_id: int


def resolve_offering_price(
    session: Session, offering: Offering, provider: Provider, *, now: datetime, run_id: int | None
) -> ResolvedChange | None:
    """Make the offering's current resolved price match its best observation in force now.

    Writes a new Price row and a PriceChangeEvent only when the shown price changes.
    """
    in_force = session.scalars(
        select(ObservedPrice).where(
            ObservedPrice.offering_id == offering.id,
            ObservedPrice.effective_from <= now,
            or_(ObservedPrice.effective_to.is_(None), ObservedPrice.effective_to > now),
        )
    ).all()
    winner = winning_observation(in_force, provider.slug)
    current = session.scalars(
        select(Price).where(Price.offering_id == offering.id, Price.effective_to.is_(None))
    ).one_or_none()
    if winner is None and current is None:
        return None
    if (
        winner is not None
        and current is not None
        and PriceValue.of(winner) == PriceValue.of(current)
    ):
        current.source = winner.source  # the same price, possibly vouched for by a better source
        return None
    new_price = None
    if winner is not None:
        starts = winner.effective_from
        if current is not None and starts < now:
            starts = now
        new_price = Price(
            offering_id=offering.id,
            source=winner.source,
            input_per_mtok=winner.input_per_mtok,
            output_per_mtok=winner.output_per_mtok,
            cached_input_per_mtok=winner.cached_input_per_mtok,
            tiers=winner.tiers,
            effective_from=starts,
            created_at=now,
        )
        session.add(new_price)
    if current is not None:
        current.effective_to = now
    session.flush()
    kind = "ADDED" if current is None else "REMOVED" if new_price is None else "CHANGED"
    event = PriceChangeEvent(
        kind=kind,
        offering_id=offering.id,
        model_id=offering.model_id,
        provider_id=offering.provider_id,
        previous_price_id=current.id if current is not None else None,
        current_price_id=new_price.id if new_price is not None else None,
        occurred_at=now,
        feed_run_id=run_id,
    )
    session.add(event)
    return ResolvedChange(event=event, model_id=offering.model_id)
