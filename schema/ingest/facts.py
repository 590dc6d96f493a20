"""Which value of each model fact is shown: every source's claims, and the best one.

Rules (docs/data.md, "Model facts"):

- A feed makes one claim per fact of a model, however many hosts it lists the model at.
  When it has the creator's own listing (the record at the creator's own API, or a
  models.dev record built on the lab's own file through ``base_model``), the claim is
  that record's wherever it states the fact. Otherwise (no creator listing, or one that
  is silent on that fact) the hosts' copies make one claim: true when any copy states a
  flag true (absence is never stated), else the value most hosts state (ties: the
  first host in provider order; a host's regional sites are one copy, stating
  what any of them states).
- The shown value is the curated file's, else a creator-listing claim, else a host claim,
  each in feed order (models.dev, OpenRouter). A capability is shown when the curated
  file, any feed's creator listing, or the best-ranked feed's hosts state it. Curated facts add to the
  feeds' and win where they conflict; they never make a stated fact unknown.
- Every claim stays in ``Model.sources``, with the source's date.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from schema.domain.facts import (
    CAPABILITIES,
    MonthDate,
    api_field_name,
    fact_text,
    parse_partial_date,
    precision_of,
)
from schema.domain.prices import CURATED
from schema.feeds.records import FeedRecord
from schema.ingest.identity import Identity, Route, load_identity
from schema.ingest.resolve import MODEL_AUTHORITIES
from schema.models import FactSource, LlmModel, ModelAlias, Organization
from schema.services.prices import chunked

CAPABILITY_FEEDS = ("litellm", "genai-prices", "llm-prices")
"""Feeds that describe routes: only their creator listing's capabilities are claims."""
FACT_FEEDS = (*MODEL_AUTHORITIES, *CAPABILITY_FEEDS)
"""Feed order among claims of the same kind (after the curated file; creator listings
before hosts' copies)."""
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
LIST_FACTS = frozenset({"input_modalities", "output_modalities", "capabilities"})
INT_FACTS = frozenset({"context_window", "max_output_tokens"})
DATE_FACTS = frozenset({"released_on", "knowledge_cutoff"})


class Matched(Protocol):
    """One feed record matched to its route and model (apply.py's _Matched)."""

    record: FeedRecord
    route: Route
    model: LlmModel


def _fact_value(record: FeedRecord, name: str) -> Any:
    value = getattr(record, name)
    if name == "capabilities" and value is not None:
        return tuple(c for c in CAPABILITIES if c in value)
    return tuple(value) if isinstance(value, list) else value


def _first_stated(records: list[FeedRecord], name: str) -> Any:
    return next((v for record in records if (v := _fact_value(record, name)) is not None), None)


def _hosts_claim(hosts: list[list[FeedRecord]], name: str) -> Any:
    """One claim from the copies of a feed's record at several hosts (module docstring);
    ``hosts``: each host's records (its regional sites), in provider order. A host states
    a fact when any of its sites does; a capability when any record states it."""
    if name == "capabilities":
        values = [
            v for records in hosts for r in records if (v := _fact_value(r, name)) is not None
        ]
        if not values:
            return None
        stated = {capability for value in values for capability in value}
        return tuple(c for c in CAPABILITIES if c in stated)
    values = [v for records in hosts if (v := _first_stated(records, name)) is not None]
    if not values:
        return None
    if isinstance(values[0], bool):
        return any(values)
    counts = Counter(values)
    return max(values, key=lambda value: (counts[value], -values.index(value)))


def _is_creator_listing(item: Matched, creator: str | None) -> bool:
    """The record at the creator's own API, or one built on the lab's own file (models.dev
    ``base_model``)."""
    if creator is not None and item.route.provider.slug == creator:
        return True
    return item.record.creator_listing


def _alias_creators(
    session: Session, model_ids: Collection[int], identity: Identity
) -> dict[int, str]:
    """For models whose creator is not known yet: the known lab that names of the form
    '<lab>/<model>' (OpenRouter and Hugging Face ids, models.dev base models) point to,
    the most common one."""
    labs: dict[int, Counter[str]] = defaultdict(Counter)
    for chunk in chunked(model_ids):
        rows = session.execute(
            select(ModelAlias.model_id, ModelAlias.name).where(ModelAlias.model_id.in_(chunk))
        )
        for model_id, name in rows:
            if name.count("/") == 1:
                slug = identity.creator(name.split("/", 1)[0]).slug
                if identity.is_known_creator(slug):
                    labs[model_id][slug] += 1
    return {model_id: counts.most_common(1)[0][0] for model_id, counts in labs.items()}


def _first_url(records: list[FeedRecord]) -> str | None:
    return next((record.url for record in records if record.url), None)


def _by_host(items: list[Matched]) -> list[list[FeedRecord]]:
    """The records of each host provider, in provider order (regional sites are one host)."""
    hosts: dict[str, list[FeedRecord]] = defaultdict(list)
    for item in items:
        hosts[item.route.provider.slug].append(item.record)
    return list(hosts.values())


def apply_model_facts(
    session: Session, source: str, matched: Sequence[Matched], now: datetime, stated_at: datetime
) -> None:
    """Record this feed's claims about each model it lists (Model.sources), then show the
    best claim of every source for each fact of those models."""
    if source not in MODEL_AUTHORITIES and source not in CAPABILITY_FEEDS:
        return
    by_model: dict[int, list[Matched]] = defaultdict(list)
    for item in sorted(
        matched, key=lambda i: (i.route.provider.slug, i.route.region, i.record.provider_model_id)
    ):
        by_model[item.model.id].append(item)
    identity = load_identity()
    creators = {
        model_id: slug
        for model_id, slug in _creator_slugs(session).items()
        if identity.is_known_creator(slug)
    }
    mine = {
        (row.model_id, row.field): row
        for row in session.scalars(select(FactSource).where(FactSource.origin == source))
    }
    named = _alias_creators(session, by_model.keys(), identity)
    claimed: set[tuple[int, str | None]] = set()
    for model_id, items in by_model.items():
        creator = creators.get(items[0].model.creator_id) or named.get(model_id)
        own = [item.record for item in items if _is_creator_listing(item, creator)]
        hosts = _by_host(items)
        every = [record for records in hosts for record in records]
        claims: dict[str | None, tuple[str | None, str | None, bool]] = {}
        if source in MODEL_AUTHORITIES:
            claims[None] = (None, _first_url(own or every), bool(own))
        names = MODEL_FACTS if source in MODEL_AUTHORITIES else ("capabilities",) if own else ()
        for name in names:
            if name == "capabilities":  # stated by any of the creator's listings, else hosts'
                from_creator, value = bool(own), _hosts_claim([own] if own else hosts, name)
            else:  # the creator's listing where it states the fact, else the hosts' claim
                from_creator, value = True, _first_stated(own, name)
                if value is None:
                    from_creator, value = False, _hosts_claim(hosts, name)
            if value is not None:
                url = _first_url(own if from_creator else every)
                claims[api_field_name(name)] = (fact_text(value), url, from_creator)
        for fact, (text, url, from_creator) in claims.items():
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
                        from_creator=from_creator,
                        retrieved_at=now,
                        stated_at=stated_at,
                    )
                )
            elif (row.value, row.url, row.stated_at, row.from_creator) != (
                text,
                url,
                stated_at,
                from_creator,
            ):
                row.value, row.url, row.retrieved_at = text, url, now
                row.stated_at, row.from_creator = stated_at, from_creator
    for key, row in mine.items():
        if key not in claimed:
            session.delete(row)
    session.flush()
    resolve_model_facts(session, set(by_model) | {model_id for model_id, _ in mine})


def _creator_slugs(session: Session) -> dict[int | None, str]:
    return {row.id: row.slug for row in session.scalars(select(Organization))}


def parse_fact(name: str, text: str) -> Any:
    """A claim's typed value from its text (the inverse of ``fact_text``)."""
    if name in LIST_FACTS:
        return [part for part in text.split(", ") if part]
    if name in INT_FACTS:
        return int(text)
    if name in DATE_FACTS:
        return parse_partial_date(text)
    if name == "open_weights":
        return text == "true"
    return text


def _rank(row: FactSource) -> tuple[int, int]:
    """Curated first; then creator listings before hosts; each in feed order."""
    if row.origin == CURATED:
        return (0, 0)
    position = FACT_FEEDS.index(row.origin) if row.origin in FACT_FEEDS else len(FACT_FEEDS)
    return (1 if row.from_creator else 2, position)


def resolve_model_facts(session: Session, model_ids: Iterable[int]) -> None:
    """Show, for each fact of the given models, the best claim of all their sources."""
    ids = sorted(set(model_ids))
    if not ids:
        return
    claims: dict[int, dict[str, list[FactSource]]] = defaultdict(lambda: defaultdict(list))
    models: dict[int, LlmModel] = {}
    for chunk in chunked(ids):
        for claim in session.scalars(
            select(FactSource).where(FactSource.model_id.in_(chunk), FactSource.field.is_not(None))
        ):
            claims[claim.model_id][claim.field or ""].append(claim)
        models.update(
            (model.id, model)
            for model in session.scalars(select(LlmModel).where(LlmModel.id.in_(chunk)))
        )
    for model_id, model in models.items():
        by_field = claims.get(model_id, {})
        for name in MODEL_FACTS:
            rows = sorted(
                (row for row in by_field.get(api_field_name(name), ()) if row.value is not None),
                key=_rank,
            )
            if name == "capabilities":
                value: Any = _shown_capabilities(rows)
            elif name in DATE_FACTS:
                value = _shown_date(rows)
                if value is not None:
                    setattr(model, f"{name}_precision", precision_of(value))
                    value = date(value.year, value.month, value.day)
            else:
                value = parse_fact(name, rows[0].value or "") if rows else None
            if value is None or (name in LIST_FACTS and not value and not rows):
                continue
            if getattr(model, name) != value:
                setattr(model, name, value)


def _shown_date(rows: list[FactSource]) -> date | None:
    """The best claim; when it states the month only and another claim states a day of
    that month, the day (they differ only in precision)."""
    if not rows:
        return None
    best = parse_partial_date(rows[0].value or "")
    if isinstance(best, MonthDate):
        for row in rows[1:]:
            other = parse_partial_date(row.value or "")
            if not isinstance(other, MonthDate) and (other.year, other.month) == (
                best.year,
                best.month,
            ):
                return other
    return best


def _shown_capabilities(rows: list[FactSource]) -> list[str]:
    """Curated ones, every creator listing's, and the best-ranked feed's hosts' claim."""
    shown: set[str] = set()
    hosts = [row for row in rows if row.origin != CURATED and not row.from_creator]
    for row in [row for row in rows if row.origin == CURATED or row.from_creator] + hosts[:1]:
        shown.update(parse_fact("capabilities", row.value or ""))
    return [c for c in CAPABILITIES if c in shown]
