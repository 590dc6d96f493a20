"""Money: exact Decimal arithmetic and the one place where feed units become USD per 1M tokens."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

TOKENS_PER_PRICE_UNIT = 1_000_000
"""Every price in llmref is USD per one million tokens."""

CENT = Decimal("0.01")


class PriceValueError(ValueError):
    """A price that is not a finite, non-negative number."""


def parse_decimal(value: object) -> Decimal:
    """Read a price as given by a feed or a file (str, int or Decimal; never float).

    Floats are refused: read JSON with ``parse_float=Decimal`` so that no binary
    rounding ever enters a price.
    """
    if isinstance(value, bool | float):
        raise PriceValueError(f"{value!r} is a {type(value).__name__}, expected a decimal number")
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise PriceValueError(f"{value!r} is not a number") from None
    else:
        raise PriceValueError(f"{value!r} is not a number")
    if not number.is_finite():
        raise PriceValueError(f"{value!r} is not a finite number")
    if number < 0:
        raise PriceValueError(f"{value!r} is negative")
    return number


def to_per_mtok(value: object, *, per_tokens: int) -> Decimal:
    """Convert a price quoted in USD per ``per_tokens`` tokens to USD per 1M tokens.

    This is the only unit conversion in the project: adapters state what unit their
    feed uses (1 for "per token", 1_000_000 for "per 1M tokens") and call this.
    """
    if per_tokens <= 0:
        raise ValueError("per_tokens must be positive")
    return normalize(parse_decimal(value) * TOKENS_PER_PRICE_UNIT / per_tokens)


def normalize(value: Decimal) -> Decimal:
    """The same number without needless trailing zeros and never in exponent form."""
    if value == 0:
        return Decimal(0)
    stripped = value.normalize()
    exponent = stripped.as_tuple().exponent
    assert isinstance(exponent, int)
    # int() is exact at any size; quantize would need more digits than the context has.
    return Decimal(int(stripped)) if exponent > 0 else stripped


def format_decimal(value: Decimal) -> str:
    """Plain decimal text: "0.05", "3", "0.00004"; no exponent, no needless zeros."""
    return format(normalize(value), "f")


def plain_decimal(value: Decimal) -> str:
    """The API's text for an amount: never exponent form, and as exact as the amount itself
    (prices are stored normalized, "0.05"; cents keep their two places, "103.00")."""
    return format(value, "f")


def round_cents(value: Decimal) -> Decimal:
    """Round half-even to cents; used on output only, never on intermediate sums."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)
