"""Monthly cost of a route at a given traffic, exact (Decimal); rounded only on output."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from schema.domain.money import TOKENS_PER_PRICE_UNIT


@dataclass(frozen=True)
class Traffic:
    input_tokens_per_month: Decimal
    output_tokens_per_month: Decimal
    cached_input_share: Decimal = Decimal(0)
    average_input_tokens_per_request: int | None = None


EXACT_DIGITS = 100
"""Enough significant digits for any traffic the API accepts (up to 10^15 tokens, shares
and prices as given) times any price: no rounding before the cents on output."""

DEFAULT_TRAFFIC = Traffic(Decimal(560_000_000), Decimal(300_000_000))
"""The traffic assumed when a question gives none: 560M input and 300M output tokens a month."""


def tier_prices(
    price: Any, average_input_tokens: int | None
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(input, output, cached input) per 1M for a request of that size: the highest tier
    whose threshold the request reaches, else the base prices. A tier's missing part falls
    back to the base price."""
    chosen = None
    if average_input_tokens is not None:
        for tier in sorted(price.tiers, key=lambda tier: tier.min_input_tokens):
            if average_input_tokens >= tier.min_input_tokens:
                chosen = tier
    if chosen is None:
        return price.input_per_mtok, price.output_per_mtok, price.cached_input_per_mtok
    return (
        chosen.input_per_mtok if chosen.input_per_mtok is not None else price.input_per_mtok,
        chosen.output_per_mtok if chosen.output_per_mtok is not None else price.output_per_mtok,
        chosen.cached_input_per_mtok
        if chosen.cached_input_per_mtok is not None
        else price.cached_input_per_mtok,
    )


def monthly_cost(price: Any, traffic: Traffic) -> Decimal | None:
    """USD a month, unrounded; None when the route lacks an input or output price."""
    input_price, output_price, cached_price = tier_prices(
        price, traffic.average_input_tokens_per_request
    )
    if input_price is None or output_price is None:
        return None
    with localcontext() as context:
        context.prec = EXACT_DIGITS  # products of token counts and prices stay exact
        cached_tokens = (
            traffic.input_tokens_per_month * traffic.cached_input_share
            if cached_price is not None
            else Decimal(0)
        )
        fresh_tokens = traffic.input_tokens_per_month - cached_tokens
        total = (
            fresh_tokens * input_price
            + cached_tokens * (cached_price or Decimal(0))
            + traffic.output_tokens_per_month * output_price
        )
        return total / TOKENS_PER_PRICE_UNIT


def cheapest_route(routes: list[tuple[Any, Any, str, str]], traffic: Traffic) -> Any | None:
    """The route that costs least at ``traffic`` among (route, price, provider slug,
    provider model id); ties go to the provider slug, then the provider's model id."""
    priced = [
        (cost, provider_slug, provider_model_id, index)
        for index, (_route, price, provider_slug, provider_model_id) in enumerate(routes)
        if price is not None and (cost := monthly_cost(price, traffic)) is not None
    ]
    if not priced:
        return None
    return routes[min(priced)[3]][0]
