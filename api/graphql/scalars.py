"""The Decimal scalar: plain decimal text, never in exponent form ("0.05", "103.00")."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from schema.domain.money import PriceValueError, parse_decimal, plain_decimal


def _parse(value: object) -> Decimal:
    try:
        return parse_decimal(str(value) if isinstance(value, float) else value)
    except PriceValueError as error:
        raise ValueError(f"invalid Decimal: {error}") from None


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description="USD as a plain decimal string ('0.25', '0.00004'), never in exponent form.",
    serialize=plain_decimal,
    parse_value=_parse,
)
