"""Helpers for the apply and feed-run tests: synthetic records, and the catalog's state as
plain values (resolved prices per route, events, row counts) to compare before and after."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from schema.db.base import Base
from schema.domain.observations import PriceObservation
from schema.feeds.records import FeedRecord, ParsedSnapshot
from schema.models import LlmModel, ObservedPrice, Offering, Price, PriceChangeEvent, Provider

NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
"""The fixed clock of these tests."""

RouteKey = tuple[str, str, str]
"""(model slug, provider slug, region)."""
Tier = tuple[int, Decimal | None, Decimal | None, Decimal | None]
Value = tuple[Decimal | None, Decimal | None, Decimal | None, tuple[Tier, ...]]
"""(input, output, cached input, tiers): what makes two prices different."""


def price(
    input_per_mtok: str | None, output_per_mtok: str | None, **dates: datetime | None
) -> PriceObservation:
    """A price from decimal strings; ``dates``: effective_from, effective_to."""
    amounts = [
        None if text is None else Decimal(text) for text in (input_per_mtok, output_per_mtok)
    ]
    return PriceObservation(*amounts, **dates)


def record(
    provider: str, model_id: str, price: PriceObservation | None = None, **facts: Any
) -> FeedRecord:
    return FeedRecord(provider=provider, provider_model_id=model_id, price=price, **facts)


def snapshot(feed: str, *records: FeedRecord) -> ParsedSnapshot:
    return ParsedSnapshot(feed=feed, records=list(records))


def add_models(session: Session, *slugs: str) -> None:
    """Models as if an authoritative feed had created them (feeds that only match need them)."""
    session.add_all(LlmModel(slug=slug, name=slug) for slug in slugs)
    session.flush()


def value_of(price: Any) -> Value | None:
    """The value of an observation, a resolved price row or an event's price state."""
    if price is None:
        return None
    tiers = tuple(
        sorted(
            (t.min_input_tokens, t.input_per_mtok, t.output_per_mtok, t.cached_input_per_mtok)
            for t in price.tiers
        )
    )
    return (price.input_per_mtok, price.output_per_mtok, price.cached_input_per_mtok, tiers)


InOut = tuple[Decimal | None, Decimal | None] | None


def io(value: Value | None) -> InOut:
    """(input, output) of a value, for readable expectations."""
    return None if value is None else (value[0], value[1])


def _route_columns() -> tuple[Any, ...]:
    return (LlmModel.slug, Provider.slug, Offering.region)


def _join_route(statement: Any, offering_id: Any) -> Any:
    return (
        statement.join(Offering, Offering.id == offering_id)
        .join(LlmModel, LlmModel.id == Offering.model_id)
        .join(Provider, Provider.id == Offering.provider_id)
    )


def resolved_prices(session: Session, at: datetime) -> dict[RouteKey, tuple[str, Value]]:
    """Every route's resolved price in force at ``at``: (its source, its value)."""
    statement = _join_route(select(*_route_columns(), Price), Price.offering_id).where(
        Price.effective_from <= at, or_(Price.effective_to.is_(None), Price.effective_to > at)
    )
    found: dict[RouteKey, tuple[str, Value]] = {}
    for model, provider, region, row in session.execute(statement):
        key = (model, provider, region)
        assert key not in found, f"two prices in force for {key} at {at}"
        value = value_of(row)
        assert value is not None
        found[key] = (row.source, value)
    return found


def observed_sources(session: Session, at: datetime) -> dict[RouteKey, set[str]]:
    """Which sources have a price of each route in force at ``at``."""
    statement = _join_route(
        select(*_route_columns(), ObservedPrice.source), ObservedPrice.offering_id
    ).where(
        ObservedPrice.effective_from <= at,
        or_(ObservedPrice.effective_to.is_(None), ObservedPrice.effective_to > at),
    )
    found: dict[RouteKey, set[str]] = defaultdict(set)
    for model, provider, region, source in session.execute(statement):
        found[(model, provider, region)].add(source)
    return found


def price_history(
    session: Session, route: RouteKey
) -> list[tuple[datetime, datetime | None, str, Value | None]]:
    """A route's resolved history, oldest first: (from, to, source, value)."""
    model, provider, region = route
    statement = (
        _join_route(select(Price), Price.offering_id)
        .where(LlmModel.slug == model, Provider.slug == provider, Offering.region == region)
        .order_by(Price.effective_from)
    )
    return [
        (row.effective_from, row.effective_to, row.source, value_of(row))
        for row in session.scalars(statement)
    ]


Change = tuple[str, str, str, Value | None, Value | None]
"""(model slug, provider slug, region, previous value, current value)."""
EventKey = tuple[str, str, str, str, Value | None, Value | None]
"""(kind, model slug, provider slug, region, previous value, current value)."""


def events_after(session: Session, after_id: int = 0) -> list[EventKey]:
    statement = (
        _join_route(select(PriceChangeEvent, *_route_columns()), PriceChangeEvent.offering_id)
        .where(PriceChangeEvent.id > after_id)
        .order_by(PriceChangeEvent.id)
    )
    return [
        (event.kind, model, provider, region, value_of(event.previous), value_of(event.current))
        for event, model, provider, region in session.execute(statement)
    ]


def last_event_id(session: Session) -> int:
    return session.scalar(select(func.max(PriceChangeEvent.id))) or 0


def row_counts(session: Session, *, skip: Iterable[str] = ("feed_runs",)) -> dict[str, int]:
    skipped = set(skip)
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
        if table.name not in skipped
    }


def table_contents(
    session: Session, *, skip_tables: Iterable[str] = (), skip_columns: Iterable[str] = ()
) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of every table, as tuples of column values (some columns left out)."""
    tables, columns = set(skip_tables), set(skip_columns)
    contents: dict[str, set[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in tables:
            continue
        kept = [column for column in table.columns if column.name not in columns]
        rows = session.execute(select(*kept)).all()
        contents[table.name] = {tuple(_hashable(value) for value in row) for row in rows}
    return contents


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    return value
