"""Money is exact: one unit conversion, plain decimal text, half-even cents on output."""

from __future__ import annotations

from decimal import Decimal

import pytest

from schema.domain.money import PriceValueError, format_decimal, round_cents, to_per_mtok


@pytest.mark.parametrize(
    ("value", "per_tokens", "expected"),
    [
        ("0.00000005", 1, "0.05"),
        (Decimal("3e-06"), 1, "3"),
        (Decimal("1.5E-05"), 1, "15"),
        ("0.25", 1_000_000, "0.25"),
        (2, 1_000, "2000"),
        ("0.0000000000000000123", 1, "0.0000000000123"),
    ],
)
def test_to_per_mtok_is_exact(value: object, per_tokens: int, expected: str) -> None:
    assert format_decimal(to_per_mtok(value, per_tokens=per_tokens)) == expected


@pytest.mark.parametrize("value", ["-1e-6", "abc", 0.1, float("nan"), "Infinity", None, True])
def test_bad_prices_are_refused(value: object) -> None:
    with pytest.raises(PriceValueError):
        to_per_mtok(value, per_tokens=1)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.050"), "0.05"),
        (Decimal("1E+2"), "100"),
        (Decimal("1E+28"), "10000000000000000000000000000"),
        (Decimal("0.00004"), "0.00004"),
        (Decimal("0E-10"), "0"),
    ],
)
def test_format_decimal_is_plain(value: Decimal, text: str) -> None:
    assert format_decimal(value) == text


@pytest.mark.parametrize(
    ("value", "cents"), [("103", "103.00"), ("0.125", "0.12"), ("0.135", "0.14"), ("2.675", "2.68")]
)
def test_round_cents_is_half_even(value: str, cents: str) -> None:
    assert str(round_cents(Decimal(value))) == cents
