"""Catalog tables: creators, models and their names, providers, routes, benchmarks, fact sources."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from schema.db.base import Base, utcnow
from schema.db.types import Money, StringList, UTCDateTime


class Organization(Base):
    """A model creator (THUDM, Alibaba)."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))


class LlmModel(Base):
    """A canonical model; every feed's name for it is a ModelAlias."""

    __tablename__ = "llm_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    released_on: Mapped[date | None] = mapped_column(Date)
    context_window: Mapped[int | None] = mapped_column(Integer)
    max_output_tokens: Mapped[int | None] = mapped_column(Integer)
    parameters_billions: Mapped[Decimal | None] = mapped_column(Money)
    architecture: Mapped[str | None] = mapped_column(String(100))
    license: Mapped[str | None] = mapped_column(String(200))
    open_weights: Mapped[bool | None] = mapped_column(Boolean)
    knowledge_cutoff: Mapped[date | None] = mapped_column(Date)
    released_on_precision: Mapped[str | None] = mapped_column(String(10))
    """'DAY', or 'MONTH' when the shown source states the month only ('2025-04')."""
    knowledge_cutoff_precision: Mapped[str | None] = mapped_column(String(10))
    input_modalities: Mapped[list[str]] = mapped_column(StringList, default=list)
    output_modalities: Mapped[list[str]] = mapped_column(StringList, default=list)
    capabilities: Mapped[list[str]] = mapped_column(StringList, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    creator: Mapped[Organization | None] = relationship(lazy="raise")


Index("ix_llm_models_lower_name_slug", func.lower(LlmModel.name), LlmModel.slug)
"""The models list's default order (schema/queries/catalog.py): a page of a large catalog
reads 50 index entries instead of sorting every model."""


class ModelAlias(Base):
    """A name under which a feed or provider lists a model. ``key`` is the lookup form."""

    __tablename__ = "model_aliases"
    __table_args__ = (UniqueConstraint("key", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("llm_models.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300), index=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    """A feed's ingest reads and rewrites its own aliases (schema/ingest/apply.py)."""

    model: Mapped[LlmModel] = relationship(lazy="raise")


class Provider(Base):
    """A company or router that serves models for a price."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))


class Offering(Base):
    """One route: a model served by a provider in a region under the provider's own id.

    ``region`` is '' for a provider with a single site (shown as null), so that the unique
    key works the same on both databases.
    """

    __tablename__ = "offerings"
    __table_args__ = (UniqueConstraint("model_id", "provider_id", "region"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("llm_models.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    region: Mapped[str] = mapped_column(String(50), default="")
    provider_model_id: Mapped[str] = mapped_column(String(300))
    context_window: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="ACTIVE")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    model: Mapped[LlmModel] = relationship(lazy="raise")
    provider: Mapped[Provider] = relationship(lazy="raise")


class OfferingListing(Base):
    """That a source lists a route, with the provider's model id and context window it states.

    A route no source lists any more is DEPRECATED (never deleted).
    """

    __tablename__ = "offering_listings"
    __table_args__ = (UniqueConstraint("offering_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"), index=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    provider_model_id: Mapped[str] = mapped_column(String(300))
    context_window: Mapped[int | None] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Benchmark(Base):
    __tablename__ = "benchmarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)


class BenchmarkScore(Base):
    __tablename__ = "benchmark_scores"
    __table_args__ = (UniqueConstraint("model_id", "benchmark_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("llm_models.id", ondelete="CASCADE"), index=True
    )
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmarks.id"), index=True)
    score: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(500))

    benchmark: Mapped[Benchmark] = relationship(lazy="raise")


class FactSource(Base):
    """What one source claims about one fact of a model, and when we read it.

    ``field`` is the API field name ('contextWindow'); null for a source of the whole record.
    ``origin`` is what put it here: 'curated' or a feed's slug; it ranks the claims.
    """

    __tablename__ = "fact_sources"
    __table_args__ = (UniqueConstraint("model_id", "source", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("llm_models.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(100), index=True)
    url: Mapped[str | None] = mapped_column(String(500))
    field: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[str | None] = mapped_column(Text)
    retrieved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When llmref read the claim."""
    stated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The date the source states it as of: its snapshot's data date (the curated file:
    the date its source was checked), never a load time."""
    from_creator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """True when the claim is the creator's own listing (its own API's record, or a
    models.dev record built on the lab's file); such claims outrank hosts' copies."""
