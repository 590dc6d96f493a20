"""Unit sanity on every load (docs/data.md, "Implausible prices"): a feed's first price for
a route is held when it is more than 100 times the median of the other sources' prices for
the same model, or above the token-price ceiling; a normal first price is not."""

from __future__ import annotations

from apply_helpers import NOW, add_models, price, record, snapshot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.ingest.apply import apply_snapshot
from schema.models import HeldPriceChange, Offering, Price, Provider


def _route_prices(session: Session, provider: str) -> list[tuple[str, str]]:
    statement = (
        select(Price.input_per_mtok, Price.output_per_mtok)
        .join(Offering, Offering.id == Price.offering_id)
        .join(Provider, Provider.id == Offering.provider_id)
        .where(Provider.slug == provider)
    )
    return [(str(i), str(o)) for i, o in session.execute(statement)]


def _others(session: Session) -> None:
    """Two other sources price the model at about $0.10 / $0.30 per 1M tokens."""
    add_models(session, "llama-4-scout")
    apply_snapshot(
        session,
        snapshot("models.dev", record("groq", "llama-4-scout", price("0.11", "0.34"))),
        source="models.dev",
        now=NOW,
    )
    apply_snapshot(
        session,
        snapshot("openrouter", record("openrouter", "llama-4-scout", price("0.08", "0.30"))),
        source="openrouter",
        now=NOW,
    )


def test_a_first_price_100x_the_median_of_other_sources_is_held(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        _others(session)
        # 0.0955 is the median of 0.11 and 0.08; 10.0 is ~105x it, under the ceiling.
        report = apply_snapshot(
            session,
            snapshot("litellm", record("wandb", "llama-4-scout", price("10.0", "0.5"))),
            source="litellm",
            now=NOW,
        )
        assert report.held == 1
        [hold] = session.scalars(select(HeldPriceChange)).all()
        assert hold.status == "PENDING" and hold.current is None
        assert hold.reason == (
            "input price 10.0 is 105x the median 0.095 of 2 other source prices for this model"
        )
        assert _route_prices(session, "wandb") == []


def test_a_first_price_above_the_ceiling_is_held_with_no_other_source(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        add_models(session, "llama-4-scout")
        report = apply_snapshot(
            session,
            snapshot("litellm", record("wandb", "llama-4-scout", price("17000", "66000"))),
            source="litellm",
            now=NOW,
        )
        assert report.held == 1
        assert _route_prices(session, "wandb") == []


def test_a_normal_first_price_is_not_held(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _others(session)
        report = apply_snapshot(
            session,
            snapshot("litellm", record("wandb", "llama-4-scout", price("9", "30"))),
            source="litellm",
            now=NOW,
        )
        assert report.held == 0
        assert session.scalars(select(HeldPriceChange)).all() == []
        assert _route_prices(session, "wandb") == [("9", "30")]
