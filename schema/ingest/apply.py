"""Apply one parsed feed snapshot to the catalog, inside the caller's transaction.

A snapshot is complete for its feed: routes, prices and facts it no longer states are no
longer that feed's. Only a change of a route's resolved price in force now writes an event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schema.domain.costs import DEFAULT_TRAFFIC, monthly_cost
from schema.domain.facts import CAPABILITIES, api_field_name, fact_text
from schema.domain.names import alias_key
from schema.domain.prices import CURATED, DEFAULT_IMPLAUSIBLE_FACTOR
from schema.domain.slugs import slugify
from schema.feeds.records import FeedRecord, ParsedSnapshot
from schema.ingest.identity import (
    Identity,
    Route,
    creator_name,
    display_name,
    load_identity,
    model_name_keys,
)
from schema.models import (
    FactSource,
    LlmModel,
    ModelAlias,
    Offering,
    Organization,
    PriceChangeEvent,
    Provider,
    UnmatchedName,
)
from schema.services.holds import PriceGuard
from schema.services.prices import (
    refresh_offerings,
    replace_observations,
    resolve_prices,
    sync_listings,
)

MODEL_AUTHORITIES = ("models.dev", "openrouter")
"""Feeds whose names may create models; others only match (docs/data.md)."""
FACT_PRIORITY = (CURATED, *MODEL_AUTHORITIES)
"""Whose claim about a model fact is shown, best first."""
MODEL_FACTS = (
    "context_window",
    "max_output_tokens",
    "input_modalities",
    "output_modalities",
    "capabilities",
    "released_on",
    "knowledge_cutoff",
    "license",
    "open_weights",
)


@dataclass
class ApplyReport:
    seen: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unmatched: int = 0
    invalid: int = 0
    held: int = 0
    events: list[PriceChangeEvent] = field(default_factory=list)
    model_ids: set[int] = field(default_factory=set)
    """Models whose routes or prices changed (their cached comparisons are stale)."""


@dataclass
class _Matched:
    record: FeedRecord
    route: Route
    model: LlmModel


class _Catalog:
    """What matching needs, loaded once per snapshot and kept current while applying."""

    def __init__(self, session: Session, source: str, identity: Identity) -> None:
        self.session = session
        self.source = source
        self.identity = identity
        models = list(session.scalars(select(LlmModel)))
        by_id = {model.id: model for model in models}
        self.models_by_slug = {model.slug: model for model in models}
        self.models_by_key: dict[str, LlmModel] = {}
        self.alias_pairs: set[tuple[str, str]] = set()
        aliases = session.execute(
            select(ModelAlias.key, ModelAlias.source, ModelAlias.model_id).order_by(
                ModelAlias.source != CURATED, ModelAlias.id
            )
        )
        for key, alias_source, model_id in aliases:
            self.models_by_key.setdefault(key, by_id[model_id])
            self.alias_pairs.add((key, alias_source))
        self.providers = {row.slug: row for row in session.scalars(select(Provider))}
        self.organizations = {row.slug: row for row in session.scalars(select(Organization))}

    def match(self, record: FeedRecord, route: Route) -> LlmModel | None:
        for key in model_name_keys(record, route):
            model = self.models_by_key.get(key) or self.models_by_slug.get(slugify(key))
            if model is not None:
                return model
        return None

    def create_model(self, record: FeedRecord, route: Route) -> LlmModel | None:
        slug = slugify(route.bare)
        if not slug:
            return None
        creator = creator_name(record)
        model = LlmModel(
            slug=slug,
            name=display_name(record, route),
            creator=self.organization(creator) if creator else None,
        )
        self.session.add(model)
        self.models_by_slug[slug] = model
        return model

    def organization(self, name: str) -> Organization:
        creator = self.identity.creator(name)
        row = self.organizations.get(creator.slug)
        if row is None:
            row = Organization(slug=creator.slug, name=creator.name)
            self.session.add(row)
            self.organizations[creator.slug] = row
        return row

    def provider(self, route: Route) -> Provider:
        row = self.providers.get(route.provider.slug)
        if row is None:
            rules = route.provider
            row = Provider(slug=rules.slug, name=rules.name, url=rules.url)
            self.session.add(row)
            self.providers[rules.slug] = row
        return row

    def add_aliases(self, model: LlmModel, names: Iterable[str]) -> None:
        for name in names:
            key = alias_key(name)
            if not key or (key, self.source) in self.alias_pairs:
                continue
            self.alias_pairs.add((key, self.source))
            self.models_by_key.setdefault(key, model)
            self.session.add(ModelAlias(model=model, name=name, key=key, source=self.source))


def apply_snapshot(
    session: Session,
    snapshot: ParsedSnapshot,
    *,
    source: str,
    now: datetime,
    run_id: int | None = None,
    identity: Identity | None = None,
    implausible_factor: Decimal = DEFAULT_IMPLAUSIBLE_FACTOR,
) -> ApplyReport:
    """Upsert providers, models, aliases, routes and ``source``'s observations; rebuild
    the resolved prices of the routes whose observations changed; write their events."""
    catalog = _Catalog(session, source, identity or load_identity())
    report = ApplyReport(seen=len(snapshot.records), invalid=len(snapshot.invalid))
    matched: list[_Matched] = []
    unmatched: dict[str, str] = {}
    for record in snapshot.records:
        route = catalog.identity.route(source, record)
        if route.pseudo:  # a router's stand-in for other models (openrouter/auto): not a model
            continue
        model = catalog.match(record, route)
        if model is None and source in MODEL_AUTHORITIES:
            model = catalog.create_model(record, route)
        if model is None:
            unmatched[record.provider_model_id] = route.provider.slug
            continue
        catalog.add_aliases(model, [record.provider_model_id, *record.identity_hints])
        matched.append(_Matched(record, route, model))
    for item in matched:
        catalog.provider(item.route)
    session.flush()
    report.unmatched = len(unmatched)
    _record_unmatched(session, source, unmatched, now)
    if source in MODEL_AUTHORITIES:
        _apply_model_facts(session, source, matched, now)
    routes = _one_record_per_route(matched, catalog)
    offerings = _ensure_offerings(session, routes, catalog, now)
    listed = {
        offerings[key].id: (item.route.model_id, item.record.context_window)
        for key, item in routes.items()
    }
    desired = {
        offerings[key].id: [
            price for price in (item.record.price, *item.record.price_history) if price is not None
        ]
        for key, item in routes.items()
        if item.record.price is not None or item.record.price_history
    }
    touched = sync_listings(session, source=source, listed=listed, now=now)
    refresh_offerings(session, touched, now=now)
    guard = PriceGuard(session, source=source, now=now, run_id=run_id, factor=implausible_factor)
    changed = replace_observations(
        session, source=source, desired=desired, now=now, run_id=run_id, guard=guard
    )
    report.held = guard.held
    report.events = resolve_prices(session, changed, now=now, run_id=run_id)
    kinds = Counter(event.kind for event in report.events)
    report.added, report.changed, report.removed = (
        kinds["ADDED"],
        kinds["CHANGED"],
        kinds["REMOVED"],
    )
    affected = touched | changed
    report.model_ids = {o.model_id for o in offerings.values() if o.id in affected} | {
        event.model_id for event in report.events
    }
    report.model_ids |= _model_ids_of(session, affected - {o.id for o in offerings.values()})
    return report


RouteKey = tuple[int, int, str]


def _preference(item: _Matched) -> tuple[Any, ...]:
    """Which record a route keeps when one snapshot lists it more than once (a router's
    sub-providers, a model id with and without a variant suffix): the undecorated id,
    then the cheapest at the default traffic, then the feed's ids in order."""
    rules = item.route.provider
    decorated = bool(rules.version_suffix and rules.version_suffix.search(item.route.model_id))
    price = item.record.price
    cost = monthly_cost(price, DEFAULT_TRAFFIC) if price is not None else None
    return (
        decorated,
        cost is None,
        cost if cost is not None else Decimal(0),
        item.record.provider,
        item.record.provider_model_id,
    )


def _one_record_per_route(matched: list[_Matched], catalog: _Catalog) -> dict[RouteKey, _Matched]:
    routes: dict[RouteKey, _Matched] = {}
    for item in sorted(matched, key=_preference):
        key = (item.model.id, catalog.providers[item.route.provider.slug].id, item.route.region)
        routes.setdefault(key, item)
    return routes


def _ensure_offerings(
    session: Session, routes: dict[RouteKey, _Matched], catalog: _Catalog, now: datetime
) -> dict[RouteKey, Offering]:
    existing = {
        (row.model_id, row.provider_id, row.region): row
        for row in session.scalars(select(Offering))
    }
    offerings: dict[RouteKey, Offering] = {}
    for key, item in routes.items():
        offering = existing.get(key)
        if offering is None:
            model_id, provider_id, region = key
            offering = Offering(
                model_id=model_id,
                provider_id=provider_id,
                region=region,
                provider_model_id=item.route.model_id,
                status="ACTIVE",
                created_at=now,
                updated_at=now,
            )
            session.add(offering)
        offerings[key] = offering
    session.flush()
    return offerings


def _model_ids_of(session: Session, offering_ids: set[int]) -> set[int]:
    if not offering_ids:
        return set()
    return set(session.scalars(select(Offering.model_id).where(Offering.id.in_(offering_ids))))


def _record_unmatched(session: Session, source: str, names: dict[str, str], now: datetime) -> None:
    """Names this feed uses that no model matched, for ops to map by hand (curated aliases)."""
    existing = {
        row.name: row
        for row in session.scalars(select(UnmatchedName).where(UnmatchedName.source == source))
    }
    for name, row in existing.items():
        if name not in names:
            session.delete(row)
        else:
            row.last_seen_at = now
            row.provider_slug = names[name]
    session.add_all(
        UnmatchedName(
            name=name, source=source, provider_slug=provider, first_seen_at=now, last_seen_at=now
        )
        for name, provider in names.items()
        if name not in existing
    )


def _fact_value(record: FeedRecord, name: str) -> Any:
    value = getattr(record, name)
    if name == "capabilities" and value is not None:
        return tuple(c for c in CAPABILITIES if c in value)
    return tuple(value) if isinstance(value, list) else value


def _consensus(records: list[FeedRecord], name: str) -> Any:
    """A feed's claim for a model fact when it lists the model on several routes: the
    value most of them state; ties go to the first route in provider order."""
    values = [value for record in records if (value := _fact_value(record, name)) is not None]
    if not values:
        return None
    counts = Counter(values)
    return max(values, key=lambda value: (counts[value], -values.index(value)))


def _apply_model_facts(
    session: Session, source: str, matched: list[_Matched], now: datetime
) -> None:
    """Record this feed's claims about each model it lists (Model.sources), and show a
    claim unless a higher-priority source states that fact."""
    by_model: dict[int, list[_Matched]] = defaultdict(list)
    for item in sorted(
        matched, key=lambda i: (i.route.provider.slug, i.route.region, i.record.provider_model_id)
    ):
        by_model[item.model.id].append(item)
    mine = {
        (row.model_id, row.field): row
        for row in session.scalars(select(FactSource).where(FactSource.origin == source))
    }
    better = set(FACT_PRIORITY[: FACT_PRIORITY.index(source)])
    outranked = {
        (model_id, fact)
        for model_id, fact in session.execute(
            select(FactSource.model_id, FactSource.field).where(FactSource.origin.in_(better))
        )
    }
    claimed: set[tuple[int, str | None]] = set()
    for model_id, items in by_model.items():
        model = items[0].model
        records = [item.record for item in items]
        url = next((record.url for record in records if record.url), None)
        claims: dict[str | None, str | None] = {None: None}
        for name in MODEL_FACTS:
            value = _consensus(records, name)
            if value is None:
                continue
            fact = api_field_name(name)
            claims[fact] = fact_text(value)
            if (model_id, fact) not in outranked:
                setattr(model, name, list(value) if isinstance(value, tuple) else value)
        for fact, text in claims.items():
            claimed.add((model_id, fact))
            row = mine.get((model_id, fact))
            if row is None:
                session.add(
                    FactSource(
                        model_id=model_id,
                        source=source,
                        origin=source,
                        url=url,
                        field=fact,
                        value=text,
                        retrieved_at=now,
                    )
                )
            elif (row.value, row.url) != (text, url):
                row.value, row.url, row.retrieved_at = text, url, now
    for key, row in mine.items():
        if key not in claimed:
            session.delete(row)
