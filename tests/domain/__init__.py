"""Tests of the pure domain rules, and builders of comparison facts shared by them.

The builders only fill in defaults; every fact a test depends on is given by the test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from schema.domain.comparison import ModelFacts, PriceFacts, RouteFacts
from schema.domain.costs import Traffic
from schema.domain.observations import PriceTierObservation

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def price(
    input_per_mtok: str | None,
    output_per_mtok: str | None,
    cached: str | None = None,
    tiers: tuple[PriceTierObservation, ...] = (),
) -> PriceFacts:
    """A price from decimal strings, USD per 1M tokens."""

    def number(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    return PriceFacts(number(input_per_mtok), number(output_per_mtok), number(cached), tiers)


def route(
    offering_id: int,
    provider_slug: str,
    route_price: PriceFacts | None = None,
    *,
    provider_model_id: str = "model",
    active: bool = True,
    region: str | None = None,
) -> RouteFacts:
    """A route whose provider is named after its slug ('acme' -> 'Acme')."""
    return RouteFacts(
        offering_id=offering_id,
        provider_slug=provider_slug,
        provider_name=provider_slug.capitalize(),
        provider_model_id=provider_model_id,
        region=region,
        active=active,
        price=route_price,
    )


def model(slug: str, model_id: int = 1, **facts: Any) -> ModelFacts:
    """A model named after its slug, with only the facts given."""
    facts.setdefault("name", slug.upper())
    return ModelFacts(id=model_id, slug=slug, **facts)


def traffic(
    input_tokens: int,
    output_tokens: int,
    cached_share: str = "0",
    average_input: int | None = None,
) -> Traffic:
    return Traffic(
        Decimal(input_tokens), Decimal(output_tokens), Decimal(cached_share), average_input
    )
