"""Properties of apply_snapshot on a real database, with hypothesis: a snapshot is complete
for its feed, so what shows after it does not depend on the feed's earlier snapshots, and
the events of a snapshot are exactly the changes of the prices shown.

Each example runs in transactions that are rolled back (apply_snapshot never commits), so
examples do not see each other's rows. Besides the LiteLLM snapshots A and B under test, a
fixed-per-example background of a worse feed (genai-prices) and of OpenRouter's own feed
(better than LiteLLM on OpenRouter's routes) makes the priority part of the property.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from apply_helpers import (
    NOW,
    EventKey,
    RouteKey,
    Value,
    add_models,
    events_after,
    last_event_id,
    resolved_prices,
    snapshot,
    value_of,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from schema.domain.observations import PriceObservation, PriceTierObservation
from schema.feeds.records import FeedRecord
from schema.ingest.apply import apply_snapshot

MODELS = ("model-a", "model-b", "model-c")
PROVIDERS = ("openai", "mistral", "openrouter")
BACKGROUND_AT, A_AT, B_AT = NOW - timedelta(days=2), NOW - timedelta(days=1), NOW

Listing = Mapping[tuple[str, str], PriceObservation | None]
"""One feed's snapshot: (provider, model) -> its price, None when listed without one."""

amounts = st.sampled_from(["0.5", "1", "1.00", "2.5", "4"]).map(Decimal)
"""All within a factor of 8 of each other and none zero, because a feed's implausible
change (to zero, or by more than 10x) is held for review instead of applied: that is
schema.services.holds' subject, not this property's."""
tiers = st.builds(
    PriceTierObservation,
    min_input_tokens=st.just(200_000),
    input_per_mtok=amounts,
    output_per_mtok=amounts,
)


def _states_something(price: PriceObservation) -> bool:
    parts = (price.input_per_mtok, price.output_per_mtok, price.cached_input_per_mtok)
    return bool(price.tiers) or any(part is not None for part in parts)


any_prices: st.SearchStrategy[PriceObservation] = st.builds(
    PriceObservation,
    input_per_mtok=st.none() | amounts,
    output_per_mtok=st.none() | amounts,
    cached_input_per_mtok=st.none() | amounts,
    tiers=st.lists(tiers, max_size=1).map(tuple),
).filter(_states_something)
common_prices = st.sampled_from(
    [
        PriceObservation(Decimal(1), Decimal("2.5")),
        PriceObservation(Decimal("1.00"), Decimal("2.50")),  # the same price, written otherwise
        PriceObservation(Decimal("2.5"), Decimal(4)),
    ]
)
prices = common_prices | any_prices
"""Often one of a few prices, so that feeds and snapshots often agree."""


def listings(providers: tuple[str, ...] = PROVIDERS) -> st.SearchStrategy[Listing]:
    return st.dictionaries(
        st.tuples(st.sampled_from(providers), st.sampled_from(MODELS)),
        st.none() | prices,
        max_size=len(providers) * len(MODELS),
    )


def _records(feed: str, listing: Listing) -> list[FeedRecord]:
    """LiteLLM writes OpenRouter's routes with its routing prefix; the others do not."""
    return [
        FeedRecord(
            provider=provider,
            provider_model_id=f"openrouter/{model}"
            if (feed, provider) == ("litellm", "openrouter")
            else model,
            price=price,
        )
        for (provider, model), price in listing.items()
    ]


def _apply(session: Session, feed: str, listing: Listing, at: datetime) -> None:
    apply_snapshot(session, snapshot(feed, *_records(feed, listing)), source=feed, now=at)


def expected_shown(
    genai: Listing, own: Listing, litellm: Listing
) -> dict[RouteKey, tuple[str, Value]]:
    """The documented priority, computed apart from the code: OpenRouter's own feed on its
    routes, then LiteLLM, then genai-prices; a shown price that states no tiers takes those
    of the best-ranked other claim with the same base input and output price."""
    shown: dict[RouteKey, tuple[str, Value]] = {}
    ranked = (("openrouter", own), ("litellm", litellm), ("genai-prices", genai))
    for provider, model in {*genai, *own, *litellm}:
        values = [
            (source, value)
            for source, listing in ranked
            if (value := value_of(listing.get((provider, model)))) is not None
        ]
        if not values:
            continue
        source, (input_, output, cached, tiers) = values[0]
        if not tiers:
            tiers = next(
                (v[3] for _, v in values[1:] if v[3] and (v[0], v[1]) == (input_, output)), ()
            )
        shown[(model, provider, "")] = (source, (input_, output, cached, tiers))
    return shown


def _shown_after(
    session: Session, genai: Listing, own: Listing, litellm: dict[datetime, Listing]
) -> tuple[dict[RouteKey, tuple[str, Value]], list[EventKey]]:
    """Apply the background, then the LiteLLM snapshots at their times; the prices shown
    at B's time and the events of the last snapshot."""
    add_models(session, *MODELS)
    _apply(session, "genai-prices", genai, BACKGROUND_AT)
    _apply(session, "openrouter", own, BACKGROUND_AT)
    for at, listing in litellm.items():
        before = last_event_id(session)
        _apply(session, "litellm", listing, at)
    return resolved_prices(session, B_AT), events_after(session, before)


def _value(shown: dict[RouteKey, tuple[str, Value]], route: RouteKey) -> Value | None:
    return shown[route][1] if route in shown else None


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    max_examples=40,
    deadline=None,
)
@given(genai=listings(), own=listings(("openrouter",)), a=listings(), b=listings())
def test_b_after_a_shows_what_b_alone_shows_and_its_events_are_the_difference(
    sessions: sessionmaker[Session], genai: Listing, own: Listing, a: Listing, b: Listing
) -> None:
    with sessions() as session:
        after_a_then_b, events = _shown_after(session, genai, own, {A_AT: a, B_AT: b})
        session.rollback()
    with sessions() as session:
        after_b_alone, _ = _shown_after(session, genai, own, {B_AT: b})
        session.rollback()

    assert after_a_then_b == after_b_alone == expected_shown(genai, own, b)

    before, after = expected_shown(genai, own, a), expected_shown(genai, own, b)
    changes = {
        route: (_value(before, route), _value(after, route))
        for route in before.keys() | after.keys()
        if _value(before, route) != _value(after, route)
    }
    assert {tuple(route): (old, new) for _, *route, old, new in events} == changes
    assert len(events) == len(changes)
    for kind, *_, old, new in events:
        assert kind == ("ADDED" if old is None else "REMOVED" if new is None else "CHANGED")
