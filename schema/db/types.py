"""Column types that keep money exact and times UTC on both PostgreSQL and SQLite."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

from schema.domain.money import format_decimal, normalize
from schema.domain.observations import PriceTierObservation
from schema.domain.prices import PriceState

_TIER_PRICES = ("input_per_mtok", "output_per_mtok", "cached_input_per_mtok")


class Money(TypeDecorator[Decimal]):
    """Exact decimal: NUMERIC on PostgreSQL, decimal text on SQLite (never REAL)."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}")
        return format_decimal(value) if dialect.name == "sqlite" else normalize(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes; a naive datetime is a bug and is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        """One plain call per value (a page reads some 1,500) instead of TypeDecorator's
        wrapper around process_result_value, after the driver type's own processing
        (SQLite's text to datetime). On PostgreSQL it only checks: the engine's sessions
        run in UTC (schema/db/engine.py), so psycopg returns values in datetime.UTC."""
        parse = self.impl_instance.result_processor(dialect, coltype)
        if parse is None:
            return _as_utc
        return lambda value: _as_utc(parse(value))


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StringList(TypeDecorator[list[str]]):
    """A short list of strings stored as JSON text (modalities, capability names)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> Any:
        return None if value is None else json.dumps(list(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str] | None:
        return None if value is None else list(json.loads(value))


def tiers_to_json(tiers: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "min_input_tokens": tier.min_input_tokens,
            **{
                name: format_decimal(amount)
                for name in _TIER_PRICES
                if (amount := getattr(tier, name)) is not None
            },
        }
        for tier in sorted(tiers, key=lambda tier: tier.min_input_tokens)
    ]


def tiers_from_json(items: list[dict[str, Any]]) -> tuple[PriceTierObservation, ...]:
    return tuple(
        PriceTierObservation(
            min_input_tokens=int(item["min_input_tokens"]),
            **{name: Decimal(item[name]) for name in _TIER_PRICES if name in item},
        )
        for item in items
    )


class PriceTierList(TypeDecorator[tuple[PriceTierObservation, ...]]):
    """Long-context price tiers as JSON with decimal strings, so they stay exact."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Iterable[Any] | None, dialect: Dialect) -> Any:
        return json.dumps(tiers_to_json(value or ()))

    def process_result_value(
        self, value: Any, dialect: Dialect
    ) -> tuple[PriceTierObservation, ...]:
        return tiers_from_json(json.loads(value)) if value else ()


_STATED_DATES = ("stated_at", "confirmed_at")


class PriceStateJSON(TypeDecorator[PriceState]):
    """A resolved price as it was (value, source, since when), kept exact as JSON text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: PriceState | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.dumps(
            {
                **{
                    name: format_decimal(amount)
                    for name in _TIER_PRICES
                    if (amount := getattr(value, name)) is not None
                },
                "tiers": tiers_to_json(value.tiers),
                "source": value.source,
                "effective_from": value.effective_from.astimezone(UTC).isoformat(),
                **{
                    name: moment.astimezone(UTC).isoformat()
                    for name in _STATED_DATES
                    if (moment := getattr(value, name)) is not None
                },
                **({"tiers_source": value.tiers_source} if value.tiers_source else {}),
            }
        )

    def process_result_value(self, value: Any, dialect: Dialect) -> PriceState | None:
        if value is None:
            return None
        data = json.loads(value)
        # Keyword arguments by name, from the same tuples process_bind_param writes.
        amounts: dict[str, Any] = {
            name: Decimal(data[name]) if name in data else None for name in _TIER_PRICES
        }
        dates: dict[str, Any] = {
            name: datetime.fromisoformat(data[name]) if name in data else None
            for name in _STATED_DATES
        }
        return PriceState(
            **amounts,
            tiers=tiers_from_json(data["tiers"]),
            source=data["source"],
            effective_from=datetime.fromisoformat(data["effective_from"]),
            **dates,
            tiers_source=data.get("tiers_source"),
        )
