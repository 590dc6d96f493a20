"""Write a validated curated catalog into the database (one unit of work, the caller's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from schema.catalog.spec import CuratedCatalog, OfferingSpec, SourceSpec
from schema.domain.facts import api_field_name, fact_text
from schema.domain.names import alias_key
from schema.domain.observations import PriceObservation
from schema.domain.prices import CURATED
from schema.ingest.facts import resolve_model_facts
from schema.models import (
    Benchmark,
    BenchmarkScore,
    FactSource,
    LlmModel,
    ModelAlias,
    Offering,
    Organization,
    Provider,
)
from schema.services.prices import (
    refresh_offerings,
    replace_observations,
    resolve_prices,
    sync_listings,
)

RowT = TypeVar("RowT", Organization, Provider, Benchmark, LlmModel)


@dataclass
class CuratedLoadReport:
    models: int = 0
    model_ids: set[int] = field(default_factory=set)
    offerings: int = 0
    price_changes: int = 0


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _upsert_by_slug(session: Session, table: type[RowT], slug: str, **values: object) -> RowT:
    row = session.scalars(select(table).where(table.slug == slug)).one_or_none()
    if row is None:
        row = table(slug=slug, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    return row


def load_curated(session: Session, catalog: CuratedCatalog, *, now: datetime) -> CuratedLoadReport:
    """Upsert every organization, provider, benchmark and model of the file.

    Facts the file states overwrite the model's; their sources replace the curated ones.
    """
    report = CuratedLoadReport()
    organizations = {
        spec.slug: _upsert_by_slug(session, Organization, spec.slug, name=spec.name, url=spec.url)
        for spec in catalog.organizations
    }
    providers = {
        spec.slug: _upsert_by_slug(session, Provider, spec.slug, name=spec.name, url=spec.url)
        for spec in catalog.providers
    }
    benchmarks = {
        spec.slug: _upsert_by_slug(
            session, Benchmark, spec.slug, name=spec.name, higher_is_better=spec.higher_is_better
        )
        for spec in catalog.benchmarks
    }
    session.flush()
    listed: dict[int, tuple[str, int | None]] = {}
    desired: dict[int, list[PriceObservation]] = {}
    for spec in catalog.models:
        facts = spec.facts.model_dump(exclude_none=True)
        creator = organizations[spec.creator] if spec.creator else None
        model = _upsert_by_slug(
            session,
            LlmModel,
            spec.slug,
            name=spec.name,
            creator_id=creator.id if creator else None,
            **facts,
        )
        session.flush()
        model_id = model.id
        report.models += 1
        report.model_ids.add(model_id)
        _replace_curated_provenance(
            session, model_id, spec.source, spec.fact_sources, facts, catalog.sources
        )
        for name in [spec.name, *spec.aliases]:
            _ensure_alias(session, model_id, name)
        for slug, score in spec.benchmarks.items():
            _upsert_score(
                session, model_id, benchmarks[slug].id, score, catalog.sources[spec.source]
            )
        for offering_spec in spec.offerings:
            provider = providers[offering_spec.provider]
            offering = _ensure_offering(session, model_id, provider.id, offering_spec, now)
            report.offerings += 1
            listed[offering.id] = (offering_spec.provider_model_id, offering_spec.context_window)
            if offering_spec.price is not None:
                price = offering_spec.price
                desired[offering.id] = [
                    PriceObservation(
                        input_per_mtok=price.input_per_mtok,
                        output_per_mtok=price.output_per_mtok,
                        cached_input_per_mtok=price.cached_input_per_mtok,
                        effective_from=_start_of(price.effective_from),
                    )
                ]
    touched = sync_listings(session, source=CURATED, listed=listed, now=now)
    refresh_offerings(session, touched | listed.keys(), now=now)
    checked = max(
        (_start_of(source.retrieved_at) for source in catalog.sources.values()), default=now
    )
    changed = replace_observations(
        session,
        source=CURATED,
        desired=desired,
        stated_at=min(checked, now),
        now=now,
        run_id=None,
    )
    resolve_model_facts(session, report.model_ids)
    changes = resolve_prices(session, changed, now=now, run_id=None)
    report.price_changes = len(changes)
    return report


def _ensure_offering(
    session: Session, model_id: int, provider_id: int, spec: OfferingSpec, now: datetime
) -> Offering:
    region = spec.region or ""
    offering = session.scalars(
        select(Offering).where(
            Offering.model_id == model_id,
            Offering.provider_id == provider_id,
            Offering.region == region,
        )
    ).one_or_none()
    if offering is None:
        offering = Offering(
            model_id=model_id,
            provider_id=provider_id,
            region=region,
            provider_model_id=spec.provider_model_id,
            created_at=now,
            updated_at=now,
        )
        session.add(offering)
        session.flush()
    return offering


def _replace_curated_provenance(
    session: Session,
    model_id: int,
    default_source: str,
    overrides: dict[str, str],
    facts: dict[str, object],
    sources: dict[str, SourceSpec],
) -> None:
    session.execute(
        delete(FactSource).where(FactSource.model_id == model_id, FactSource.origin == CURATED)
    )
    record_source = sources[default_source]
    rows = [(record_source, None, None)] + [
        (sources[overrides.get(name, default_source)], api_field_name(name), fact_text(value))
        for name, value in facts.items()
    ]
    for source, fact, value in rows:
        session.add(
            FactSource(
                model_id=model_id,
                source=source.name,
                origin=CURATED,
                url=source.url,
                field=fact,
                value=value,
                retrieved_at=_start_of(source.retrieved_at),
                stated_at=_start_of(source.retrieved_at),
            )
        )


def _ensure_alias(session: Session, model_id: int, name: str) -> None:
    key = alias_key(name)
    existing = session.scalars(
        select(ModelAlias).where(ModelAlias.key == key, ModelAlias.source == CURATED)
    ).one_or_none()
    if existing is None:
        session.add(ModelAlias(model_id=model_id, name=name, key=key, source=CURATED))
    else:
        existing.model_id = model_id


def _upsert_score(
    session: Session, model_id: int, benchmark_id: int, score: Decimal, source: SourceSpec
) -> None:
    row = session.scalars(
        select(BenchmarkScore).where(
            BenchmarkScore.model_id == model_id,
            BenchmarkScore.benchmark_id == benchmark_id,
            BenchmarkScore.source == source.name,
        )
    ).one_or_none()
    if row is None:
        session.add(
            BenchmarkScore(
                model_id=model_id,
                benchmark_id=benchmark_id,
                score=score,
                source=source.name,
                url=source.url,
            )
        )
    else:
        row.score = score
