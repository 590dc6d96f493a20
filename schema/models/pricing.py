"""Prices: each feed's observations, the resolved price history, and price-change events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from schema.db.base import Base, utcnow
from schema.db.types import Money, PriceStateJSON, PriceTierList, UTCDateTime
from schema.domain.prices import PriceState
from schema.models.catalog import Offering


class PriceColumns:
    """USD per 1M tokens, with long-context tiers; shared by observations and resolved prices."""

    input_per_mtok: Mapped[Decimal | None] = mapped_column(Money)
    output_per_mtok: Mapped[Decimal | None] = mapped_column(Money)
    cached_input_per_mtok: Mapped[Decimal | None] = mapped_column(Money)
    tiers: Mapped[tuple[Any, ...]] = mapped_column(PriceTierList, default=tuple)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    effective_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The data date of the snapshot that first stated this price (never a load time)."""
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The data date of the latest snapshot that still states it."""


class ObservedPrice(PriceColumns, Base):
    """A price as one source (a feed, or the curated file) states it for one route."""

    __tablename__ = "observed_prices"
    __table_args__ = (
        Index(None, "offering_id", "source"),
        Index(
            "ix_observed_prices_scheduled",
            "offering_id",
            postgresql_where=text("stated_from IS NOT NULL"),
            sqlite_where=text("stated_from IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"))
    source: Mapped[str] = mapped_column(String(100), index=True)
    """A feed's ingest reads and replaces its own observations (schema/services/prices.py)."""
    dated: Mapped[bool] = mapped_column(Boolean, default=False)
    """True for a price of the source's dated list (it states a start or an end); False for
    an undated current price, which takes effect at its snapshot's data date."""
    stated_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The start date the source states, if any: a scheduled change (docs/data.md)."""
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    feed_run_id: Mapped[int | None] = mapped_column(ForeignKey("feed_runs.id"))


class Price(PriceColumns, Base):
    """The resolved price of a route over time: the highest-priority source's price then.

    The row with ``effective_to`` null is the price in force now.
    """

    __tablename__ = "prices"
    __table_args__ = (Index(None, "offering_id", "effective_to"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"))
    source: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    tiers_source: Mapped[str | None] = mapped_column(String(100))
    """The source that states the tiers, when another than ``source`` states the same base
    price with tiers and ``source`` states none."""

    offering: Mapped[Offering] = relationship(lazy="raise")


class PriceChangeEvent(Base):
    """One change of a route's resolved price; also the outbox row for publishing it.

    It keeps the previous and current prices as they were, so that rewriting the resolved
    history (a feed filling in older dates) never changes what an event said.
    """

    __tablename__ = "price_change_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("llm_models.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    previous: Mapped[PriceState | None] = mapped_column(PriceStateJSON)
    current: Mapped[PriceState | None] = mapped_column(PriceStateJSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    feed_run_id: Mapped[int | None] = mapped_column(ForeignKey("feed_runs.id"), index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HeldPriceChange(Base):
    """A feed's price observation held back as implausible until ops decide.

    ``current`` is the feed's previous price for the route, ``proposed`` the new one. At most
    one PENDING hold per route and feed: a later observation supersedes it.
    """

    __tablename__ = "held_price_changes"
    __table_args__ = (
        Index(
            "uq_held_price_changes_one_pending",
            "offering_id",
            "source",
            unique=True,
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    current: Mapped[PriceState | None] = mapped_column(PriceStateJSON)
    proposed: Mapped[PriceState] = mapped_column(PriceStateJSON)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    held_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feed_run_id: Mapped[int | None] = mapped_column(ForeignKey("feed_runs.id"))
