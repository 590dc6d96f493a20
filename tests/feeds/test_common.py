"""The shared adapter helpers where the feeds' own data does not reach every edge."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from schema.domain.observations import PriceObservation
from schema.feeds.adapters.common import (
    RecordError,
    capabilities,
    split_current,
    to_count,
    to_day,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)


def dated(start: datetime | None, end: datetime | None) -> PriceObservation:
    return PriceObservation(Decimal(1), Decimal(2), effective_from=start, effective_to=end)


@pytest.mark.parametrize(
    ("as_of", "current"),
    [
        (JAN, None),  # to_date is exclusive: ended at the start of JAN
        (datetime(2025, 12, 31, 23, 59, tzinfo=UTC), 0),
        (FEB, 1),  # from_date is inclusive
    ],
)
def test_split_current_bounds(as_of: datetime, current: int | None) -> None:
    prices = [dated(None, JAN), dated(FEB, None)]
    price, others = split_current(prices, as_of)
    assert price == (None if current is None else prices[current])
    assert len(others) == (2 if current is None else 1)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([("VISION", None), ("REASONING", None)], None),  # the feed says nothing
        ([("VISION", False), ("REASONING", None)], frozenset()),
        ([("VISION", False), ("VISION", True), ("REASONING", False)], frozenset({"VISION"})),
    ],
)
def test_capabilities_state_only_what_the_feed_says(
    flags: list[tuple[str, bool | None]], expected: frozenset[str] | None
) -> None:
    assert capabilities(flags) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (262_144, 262_144),
        (Decimal("2000000.0"), 2_000_000),
        (Decimal("1.5"), None),
        (-1, None),
        (True, None),
        ("8192", None),
    ],
)
def test_to_count(value: object, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(RecordError):
            to_count(value, "limit")
    else:
        assert to_count(value, "limit") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-04", date(2025, 4, 1)),
        ("2025-09-30", date(2025, 9, 30)),
        ("2025-13", None),
        ("April 2025", None),
        (20250401, None),
    ],
)
def test_to_day(value: object, expected: date | None) -> None:
    if expected is None:
        with pytest.raises(RecordError):
            to_day(value, "knowledge")
    else:
        assert to_day(value, "knowledge") == expected
