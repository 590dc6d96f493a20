"""Two model rows that the evidence now says are one model (a feed arrived that ties
their names): the second one's routes, aliases, facts and scores move to the first, and
the second row goes.

A route both models have (same provider and region) keeps the surviving model's route:
the other one is removed with its listings, observations, prices, held changes and
events, since the feeds re-applied after the merge restate what they list on the survivor.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from schema.models import (
    BenchmarkScore,
    FactSource,
    HeldPriceChange,
    LlmModel,
    ModelAlias,
    ObservedPrice,
    Offering,
    OfferingListing,
    Price,
    PriceChangeEvent,
)


def merge_model(session: Session, *, into: LlmModel, other: LlmModel) -> None:
    """Move everything of ``other`` to ``into`` and delete ``other``."""
    routes = {
        (row.provider_id, row.region)
        for row in session.scalars(select(Offering).where(Offering.model_id == into.id))
    }
    for offering in session.scalars(select(Offering).where(Offering.model_id == other.id)):
        if (offering.provider_id, offering.region) in routes:
            _delete_offering(session, offering)
        else:
            offering.model_id = into.id
            session.execute(
                update(PriceChangeEvent)
                .where(PriceChangeEvent.offering_id == offering.id)
                .values(model_id=into.id)
            )
    scored = set(
        session.scalars(
            select(BenchmarkScore.benchmark_id).where(BenchmarkScore.model_id == into.id)
        )
    )
    for score in session.scalars(select(BenchmarkScore).where(BenchmarkScore.model_id == other.id)):
        if score.benchmark_id in scored:
            session.delete(score)
        else:
            score.model_id = into.id
    for table in (ModelAlias, FactSource):
        session.execute(delete(table).where(table.model_id == other.id))
    session.flush()
    session.delete(other)


def _delete_offering(session: Session, offering: Offering) -> None:
    for table in (PriceChangeEvent, HeldPriceChange, Price, ObservedPrice, OfferingListing):
        session.execute(delete(table).where(table.offering_id == offering.id))
    session.delete(offering)
