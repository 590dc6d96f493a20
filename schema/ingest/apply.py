"""Apply one parsed feed snapshot to the catalog, inside the caller's transaction.

A snapshot is complete for its feed: routes, prices and facts it no longer states are no
longer that feed's. Only a change of a route's resolved price in force now writes an event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from schema.domain.costs import DEFAULT_TRAFFIC, monthly_cost
from schema.domain.names import alias_key
from schema.domain.prices import CURATED, DEFAULT_IMPLAUSIBLE_FACTOR
from schema.feeds.records import FeedRecord, ParsedSnapshot
from schema.ingest.facts import apply_model_facts
from schema.ingest.identity import Creator, Identity, Route, load_identity
from schema.ingest.merge import merge_model
from schema.ingest.resolve import UNMATCHED, NameNote, Resolution, resolve
from schema.ingest.snapshots import stated_dates, store_records, stored_records
from schema.models import (
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
    chunked,
    refresh_offerings,
    replace_observations,
    resolve_prices,
    sync_listings,
)

TYING_FEEDS = ("openrouter", "models.dev")
"""Feeds whose identity hints are ties of identity (the others' are price groups)."""


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


_last_resolution: list[tuple[Hashable, Resolution]] = []
"""The last resolution this process computed, with its inputs."""


def _resolved(
    records_by_feed: dict[str, list[FeedRecord]],
    identity: Identity,
    *,
    curated: dict[str, list[str]],
    existing: list[str],
) -> Resolution:
    """``resolve``, again only when its inputs changed: a snapshot that differs from the
    last one only in bytes (a feed's timestamp) brings the same records."""
    inputs = (
        identity,
        tuple((feed, tuple(records_by_feed[feed])) for feed in sorted(records_by_feed)),
        tuple((slug, tuple(curated[slug])) for slug in sorted(curated)),
        tuple(sorted(existing)),
    )
    for known, resolution in _last_resolution:
        if known == inputs:
            return resolution
    resolution = resolve(records_by_feed, identity, curated=curated, existing=existing)
    _last_resolution[:] = [(inputs, resolution)]
    return resolution


class _Catalog:
    """The catalog's models as the identity resolution over every feed's latest records
    names them (schema/ingest/resolve.py), and the providers, loaded once per apply."""

    def __init__(
        self,
        session: Session,
        source: str,
        snapshot: ParsedSnapshot,
        identity: Identity,
        now: datetime,
        stated: datetime,
    ) -> None:
        self.session = session
        self.identity = identity
        store_records(session, source, snapshot.records, now=now, stated_at=stated)
        session.flush()
        self.records_by_feed = stored_records(session)
        self.stated_by_feed = stated_dates(session)
        curated: dict[str, list[str]] = defaultdict(list)
        for slug, name in session.execute(
            select(LlmModel.slug, ModelAlias.name)
            .join(LlmModel, LlmModel.id == ModelAlias.model_id)
            .where(ModelAlias.source == CURATED)
        ):
            curated[slug].append(name)
        self.resolution = _resolved(
            self.records_by_feed,
            identity,
            curated=curated,
            existing=list(session.scalars(select(LlmModel.slug))),
        )
        self.providers = {row.slug: row for row in session.scalars(select(Provider))}
        self.organizations = {row.slug: row for row in session.scalars(select(Organization))}
        self.models = self._sync_models(set(curated))
        self._matched: dict[str, list[_Matched]] = {}

    def _sync_models(self, curated: set[str]) -> dict[str, LlmModel]:
        """One row per resolved model. A model keeps the row with its slug; else it takes
        over a row that held its names before (renamed: new evidence changed which name
        is the model's slug); rows that held its names besides are merged into it (new
        evidence tied them). Name and creator follow the evidence, except for curated
        models (the curated file says). Only those rows are loaded: the catalog may hold
        many more models than the feeds name."""
        specs = self.resolution.models
        held_by = {
            (source, key): model_id
            for key, source, model_id in self.session.execute(
                select(ModelAlias.key, ModelAlias.source, ModelAlias.model_id).where(
                    ModelAlias.source.in_(self.records_by_feed.keys() - {CURATED})
                )
            )
        }
        named = {slug for spec in specs.values() for slug in (spec.slug, *spec.existing)}
        held = {
            model_id
            for spec in specs.values()
            for item in spec.listings
            if (model_id := held_by.get((item.feed, alias_key(item.record.provider_model_id))))
        }
        rows = self.session.scalars(
            select(LlmModel).where(or_(LlmModel.slug.in_(named), LlmModel.id.in_(held)))
        ).all()
        by_slug = {row.slug: row for row in rows}
        by_id = {row.id: row for row in rows}
        models = {slug: by_slug[slug] for slug in specs if slug in by_slug}
        claimed = {row.id for row in models.values()}
        for slug, spec in specs.items():
            earlier = {by_slug[s] for s in spec.existing if s in by_slug}
            earlier |= {
                by_id[model_id]
                for item in spec.listings
                if (model_id := held_by.get((item.feed, alias_key(item.record.provider_model_id))))
                in by_id
            }
            for row in sorted(earlier, key=lambda row: row.slug):
                if row.id in claimed or row.slug in curated:
                    continue
                claimed.add(row.id)
                if slug not in models:
                    del by_slug[row.slug]
                    row.slug = slug
                    by_slug[slug] = models[slug] = row
                    self.session.flush()
                else:
                    merge_model(self.session, into=models[slug], other=row)
            if slug not in models:
                models[slug] = by_slug[slug] = LlmModel(slug=slug, name=spec.name)
                self.session.add(models[slug])
            if slug not in curated:
                self._describe(models[slug], spec.name, spec.creator)
        self.session.flush()
        return models

    def _describe(self, row: LlmModel, name: str, creator: Creator | None) -> None:
        """Set a model's name and creator, leaving a row that has them already clean."""
        if row.name != name:
            row.name = name
        organization = self.organization(creator) if creator else None
        if organization is None:
            if row.creator_id is not None:
                row.creator = None
        elif organization.id is None or row.creator_id != organization.id:
            row.creator = organization

    def model_of(self, feed: str, record: FeedRecord) -> LlmModel | None:
        slug = self.resolution.model_of(feed, record)
        return self.models[slug] if slug is not None else None

    def organization(self, creator: Creator) -> Organization:
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

    def matched(self, feed: str) -> list[_Matched]:
        """The feed's stored records that resolve to a model, with their routes."""
        if feed not in self._matched:
            self._matched[feed] = [
                _Matched(record, self.identity.route(feed, record), model)
                for record in self.records_by_feed[feed]
                if (model := self.model_of(feed, record)) is not None
            ]
        return self._matched[feed]


def alias_names(feed: str, record: FeedRecord, route: Route) -> list[str]:
    """The names a feed uses for a model (Model.aliases): its id, the provider's id, and
    the names it ties to it. genai-prices' match rules group names that share a price,
    not an identity, so they are never aliases."""
    ties = record.identity_hints if feed in TYING_FEEDS else ()
    return [record.provider_model_id, route.model_id, *ties]


def _desired_aliases(feed: str, matched: list[_Matched]) -> dict[str, tuple[str, int]]:
    """key -> (name, model id): the first listing (in record order) using a name wins."""
    desired: dict[str, tuple[str, int]] = {}
    for item in matched:
        for name in alias_names(feed, item.record, item.route):
            key = alias_key(name)
            if key:
                desired.setdefault(key, (name, item.model.id))
    return desired


def _aliases_of(session: Session, source: str) -> dict[str, tuple[int, str, int]]:
    """key -> (alias id, name, model id) of ``source``'s aliases."""
    return {
        key: (alias_id, name, model_id)
        for alias_id, key, name, model_id in session.execute(
            select(ModelAlias.id, ModelAlias.key, ModelAlias.name, ModelAlias.model_id).where(
                ModelAlias.source == source
            )
        )
    }


def _sync_aliases(session: Session, source: str, desired: dict[str, tuple[str, int]]) -> None:
    existing = _aliases_of(session, source)
    gone = [alias_id for key, (alias_id, _, _) in existing.items() if key not in desired]
    for chunk in chunked(gone):
        session.execute(delete(ModelAlias).where(ModelAlias.id.in_(chunk)))
    moved = [
        {"id": alias_id, "name": desired[key][0], "model_id": desired[key][1]}
        for key, (alias_id, name, model_id) in existing.items()
        if key in desired and (name, model_id) != desired[key]
    ]
    if moved:
        session.execute(update(ModelAlias), moved)
    added = [
        {"model_id": model_id, "name": name, "key": key, "source": source}
        for key, (name, model_id) in desired.items()
        if key not in existing
    ]
    if added:
        session.execute(insert(ModelAlias), added)


def _aliases_stale(session: Session, source: str, desired: dict[str, tuple[str, int]]) -> bool:
    existing = {
        key: (name, model_id) for key, (_, name, model_id) in _aliases_of(session, source).items()
    }
    return existing != desired


def apply_snapshot(
    session: Session,
    snapshot: ParsedSnapshot,
    *,
    source: str,
    now: datetime,
    stated_at: datetime | None = None,
    run_id: int | None = None,
    identity: Identity | None = None,
    implausible_factor: Decimal = DEFAULT_IMPLAUSIBLE_FACTOR,
) -> ApplyReport:
    """Store the snapshot's records as ``source``'s latest, resolve identity over every
    feed's latest records, then upsert providers, models, aliases, routes and ``source``'s
    observations; rebuild the resolved prices of the routes whose observations changed and
    write their events. A feed whose names now resolve otherwise (this snapshot brought
    the evidence) has its routes rebuilt from its stored records in the same transaction.
    The data date is the snapshot's own timestamp, else ``stated_at`` (what the transport
    states), else ``now`` (when it is read), and never later than ``now`` (docs/data.md);
    a rebuilt feed keeps the data date of its own last snapshot."""
    stated = min(snapshot.published_at or stated_at or now, now)
    catalog = _Catalog(session, source, snapshot, identity or load_identity(), now, stated)
    _record_names(session, catalog.resolution.notes, now)
    report = _apply_feed(
        catalog, source=source, now=now, stated=stated, run_id=run_id, factor=implausible_factor
    )
    report.seen, report.invalid = len(snapshot.records), len(snapshot.invalid)
    report.unmatched = len(
        {
            note.name
            for note in catalog.resolution.notes
            if note.feed == source and note.kind == UNMATCHED
        }
    )
    for other in sorted(catalog.records_by_feed.keys() - {source}):
        if _aliases_stale(session, other, _desired_aliases(other, catalog.matched(other))):
            again = _apply_feed(
                catalog,
                source=other,
                now=now,
                stated=catalog.stated_by_feed[other],
                run_id=run_id,
                factor=implausible_factor,
            )
            report.events += again.events
            report.model_ids |= again.model_ids
    return report


def _apply_feed(
    catalog: _Catalog,
    *,
    source: str,
    now: datetime,
    stated: datetime,
    run_id: int | None,
    factor: Decimal,
) -> ApplyReport:
    """One feed's stored records under the catalog's resolution: its aliases, model facts,
    routes, listings and observations."""
    session = catalog.session
    report = ApplyReport()
    matched = catalog.matched(source)
    for item in matched:
        catalog.provider(item.route)
    session.flush()
    _sync_aliases(session, source, _desired_aliases(source, matched))
    apply_model_facts(session, source, matched, now, stated)
    routes = _one_record_per_route(matched, catalog)
    offerings = _ensure_offerings(session, routes, catalog, stated)
    listed = {
        offerings[key]: (item.route.model_id, item.record.context_window)
        for key, item in routes.items()
    }
    desired = {
        offerings[key]: [
            price for price in (item.record.price, *item.record.price_history) if price is not None
        ]
        for key, item in routes.items()
        if item.record.price is not None or item.record.price_history
    }
    touched = sync_listings(session, source=source, listed=listed, now=now)
    refresh_offerings(session, touched, now=stated)
    guard = PriceGuard(
        session,
        desired.keys(),
        source=source,
        now=now,
        stated_at=stated,
        run_id=run_id,
        factor=factor,
    )
    changed = replace_observations(
        session,
        source=source,
        desired=desired,
        stated_at=stated,
        now=now,
        run_id=run_id,
        guard=guard,
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
    report.model_ids = {key[0] for key, id_ in offerings.items() if id_ in affected} | {
        event.model_id for event in report.events
    }
    report.model_ids |= _model_ids_of(session, affected - set(offerings.values()))
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
) -> dict[RouteKey, int]:
    """The offering id of each route, adding the routes that do not exist yet."""
    ids: dict[RouteKey, int] = {
        (model_id, provider_id, region): offering_id
        for offering_id, model_id, provider_id, region in session.execute(
            select(Offering.id, Offering.model_id, Offering.provider_id, Offering.region).where(
                Offering.model_id.in_({model_id for model_id, _, _ in routes})
            )
        )
    }
    added: dict[RouteKey, Offering] = {}
    for key, item in routes.items():
        if key not in ids:
            model_id, provider_id, region = key
            added[key] = Offering(
                model_id=model_id,
                provider_id=provider_id,
                region=region,
                provider_model_id=item.route.model_id,
                status="ACTIVE",
                created_at=now,
                updated_at=now,
            )
    session.add_all(added.values())
    session.flush()
    ids.update((key, offering.id) for key, offering in added.items())
    return {key: ids[key] for key in routes}


def _model_ids_of(session: Session, offering_ids: set[int]) -> set[int]:
    if not offering_ids:
        return set()
    return set(session.scalars(select(Offering.model_id).where(Offering.id.in_(offering_ids))))


def _record_names(session: Session, notes: list[NameNote], now: datetime) -> None:
    """Every feed's unmatched and held-apart names, for ops to map by hand (curated
    aliases and distinct entries in identity.yaml); a name no feed uses any more goes."""
    wanted: dict[tuple[str, str, str, str], str] = {}
    for note in notes:
        wanted.setdefault((note.name, note.feed, note.provider, note.kind), note.reason)
    existing = {
        (name, source, provider, kind): (name_id, reason)
        for name_id, name, source, provider, kind, reason in session.execute(
            select(
                UnmatchedName.id,
                UnmatchedName.name,
                UnmatchedName.source,
                UnmatchedName.provider_slug,
                UnmatchedName.kind,
                UnmatchedName.reason,
            )
        )
    }
    gone = [name_id for key, (name_id, _) in existing.items() if key not in wanted]
    for chunk in chunked(gone):
        session.execute(delete(UnmatchedName).where(UnmatchedName.id.in_(chunk)))
    kept = [
        (name_id, reason, wanted[key])
        for key, (name_id, reason) in existing.items()
        if key in wanted
    ]
    for chunk in chunked([name_id for name_id, _, _ in kept]):
        session.execute(
            update(UnmatchedName).where(UnmatchedName.id.in_(chunk)).values(last_seen_at=now)
        )
    reasons = [{"id": name_id, "reason": new} for name_id, old, new in kept if old != new]
    if reasons:
        session.execute(update(UnmatchedName), reasons)
    added = [
        {
            "name": name,
            "source": feed,
            "provider_slug": provider,
            "kind": kind,
            "reason": reason,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for (name, feed, provider, kind), reason in wanted.items()
        if (name, feed, provider, kind) not in existing
    ]
    if added:
        session.execute(insert(UnmatchedName), added)
