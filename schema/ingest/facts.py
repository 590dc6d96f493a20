"""Which value of each model fact is shown: every feed's claims, and the best one.

Moved out of apply.py unchanged; the rules are in docs/data.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from schema.domain.facts import CAPABILITIES, api_field_name, fact_text
from schema.domain.prices import CURATED
from schema.feeds.records import FeedRecord
from schema.ingest.identity import Route
from schema.models import FactSource, LlmModel

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


def _consensus(records: list[FeedRecord], name: str) -> Any:
    """A feed's claim for a model fact when it lists the model on several routes: the
    value most of them state; ties go to the first route in provider order."""
    values = [value for record in records if (value := _fact_value(record, name)) is not None]
    if not values:
        return None
    counts = Counter(values)
    return max(values, key=lambda value: (counts[value], -values.index(value)))


def apply_model_facts(
    session: Session, source: str, matched: Sequence[Matched], now: datetime, stated_at: datetime
) -> None:
    """Record this feed's claims about each model it lists (Model.sources), and show a
    claim unless a higher-priority source states that fact."""
    by_model: dict[int, list[Matched]] = defaultdict(list)
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
                        stated_at=stated_at,
                    )
                )
            elif (row.value, row.url, row.stated_at) != (text, url, stated_at):
                row.value, row.url, row.retrieved_at = text, url, now
                row.stated_at = stated_at
    for key, row in mine.items():
        if key not in claimed:
            session.delete(row)
