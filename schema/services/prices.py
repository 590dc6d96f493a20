"""Price observations per source, route listings, and the resolved price history.

Services never commit; the caller's unit of work does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import CursorResult, and_, delete, func, or_, select, text
from sqlalchemy.orm import Session

from schema.domain.observations import PriceObservation
from schema.domain.prices import (
    PriceState,
    PriceValue,
    Segment,
    resolve_timeline,
    state_at,
    stored_state,
)
from schema.models import (
    LlmModel,
    ObservedPrice,
    Offering,
    OfferingListing,
    Price,
    PriceChangeEvent,
    Provider,
)
from schema.services.source_priority import load_source_priority

T = TypeVar("T")


class Guard(Protocol):
    def allows(
        self, offering_id: int, current: ObservedPrice | None, proposed: PriceObservation
    ) -> bool: ...


CHUNK = 500


def chunked(items: Collection[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Split long IN (...) lists so that no database meets too many parameters."""
    ordered = list(items)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _dated_key(
    stated_from: datetime | None, effective_to: datetime | None, price: Any
) -> tuple[Any, ...]:
    return (stated_from, effective_to, PriceValue.of(price))


def _observed(
    offering_id: int,
    price: PriceObservation,
    *,
    source: str,
    dated: bool,
    start: datetime,
    stated_at: datetime,
    now: datetime,
    run_id: int | None,
) -> ObservedPrice:
    return ObservedPrice(
        offering_id=offering_id,
        source=source,
        dated=dated,
        stated_from=price.effective_from,
        effective_from=start,
        effective_to=price.effective_to,
        input_per_mtok=price.input_per_mtok,
        output_per_mtok=price.output_per_mtok,
        cached_input_per_mtok=price.cached_input_per_mtok,
        tiers=price.tiers,
        stated_at=stated_at,
        confirmed_at=stated_at,
        observed_at=now,
        feed_run_id=run_id,
    )


def replace_observations(
    session: Session,
    *,
    source: str,
    desired: Mapping[int, Sequence[PriceObservation]],
    stated_at: datetime,
    now: datetime,
    run_id: int | None,
    guard: Guard | None = None,
) -> set[int]:
    """Make ``source``'s observations match what its snapshot, dated ``stated_at``, states;
    return the routes whose observations changed. ``guard`` may hold back an implausible
    new undated price (schema.services.holds). ``now`` is only when llmref read it.

    - Dated prices (the source states a start or an end) are kept exactly as the source's
      current list. One without a start takes effect at ``stated_at``; one that ended
      before that, at the model's release date when that is earlier than its end (else it
      is dropped: nothing says when it was in force).
    - An undated price takes effect at ``stated_at``; when the source states another one
      (or none), the old one is closed at ``stated_at`` and kept as history. Stated again,
      it is confirmed (``confirmed_at``); when another source's scheduled change started
      since the last confirmation, the restatement is a new claim from ``stated_at``, so
      that it supersedes the scheduled change from this data on (docs/data.md).
    - A snapshot is complete: routes it no longer prices lose this source's prices.
    """
    existing: dict[int, list[ObservedPrice]] = defaultdict(list)
    for row in session.scalars(select(ObservedPrice).where(ObservedPrice.source == source)):
        existing[row.offering_id].append(row)
    scheduled = _scheduled_starts(session, source)
    released = _release_dates(session, desired)
    changed: set[int] = set()
    for offering_id in set(existing) | set(desired):
        rows = existing.get(offering_id, [])
        stated = desired.get(offering_id, ())
        old = {_dated_key(r.stated_from, r.effective_to, r): r for r in rows if r.dated}
        new = {
            _dated_key(p.effective_from, p.effective_to, p): p
            for p in stated
            if p.effective_from is not None or p.effective_to is not None
        }
        for key in old.keys() - new.keys():
            session.delete(old[key])
            changed.add(offering_id)
        for key in old.keys() & new.keys():
            if _confirm(old[key], stated_at):
                changed.add(offering_id)
        for key in new.keys() - old.keys():
            price = new[key]
            begin = _dated_start(price, stated_at, released.get(offering_id))
            if begin is not None:
                session.add(
                    _observed(
                        offering_id,
                        price,
                        source=source,
                        dated=True,
                        start=begin,
                        stated_at=stated_at,
                        now=now,
                        run_id=run_id,
                    )
                )
                changed.add(offering_id)
        undated = next(
            (p for p in stated if p.effective_from is None and p.effective_to is None), None
        )
        current = next((r for r in rows if not r.dated and r.effective_to is None), None)
        if current is not None and undated is not None:
            if PriceValue.of(current) == PriceValue.of(undated):
                if not _restated_after_schedule(current, scheduled.get(offering_id), stated_at):
                    if _confirm(current, stated_at):
                        changed.add(offering_id)
                    continue
            elif guard is not None and not guard.allows(offering_id, current, undated):
                continue
        elif (
            undated is not None
            and guard is not None
            and not guard.allows(offering_id, None, undated)
        ):
            continue
        if _replace_undated(
            session,
            offering_id,
            current,
            undated,
            source=source,
            stated_at=stated_at,
            now=now,
            run_id=run_id,
        ):
            changed.add(offering_id)
    session.flush()
    return changed


def _confirm(row: ObservedPrice, stated_at: datetime) -> bool:
    if row.confirmed_at is not None and row.confirmed_at >= stated_at:
        return False
    row.confirmed_at = stated_at
    return True


def _dated_start(
    price: PriceObservation, stated_at: datetime, released: datetime | None
) -> datetime | None:
    """When a dated price takes effect: its stated start, else the snapshot's data date,
    else (it ended before that) the model's release date; None when none fits."""
    if price.effective_from is not None:
        return price.effective_from
    end = price.effective_to
    for start in (stated_at, released):
        if start is not None and (end is None or start < end):
            return start
    return None


def _restated_after_schedule(
    current: ObservedPrice, starts: list[datetime] | None, stated_at: datetime
) -> bool:
    """Whether another source's scheduled change began after ``current`` was last stated
    and by this data date: then this restatement is newer data than the schedule."""
    last = current.confirmed_at or current.effective_from
    return any(last < start <= stated_at for start in starts or ())


def _scheduled_starts(session: Session, source: str) -> dict[int, list[datetime]]:
    """Other sources' stated start dates (scheduled changes), per route."""
    starts: dict[int, list[datetime]] = defaultdict(list)
    rows = session.execute(
        select(ObservedPrice.offering_id, ObservedPrice.stated_from).where(
            ObservedPrice.source != source, ObservedPrice.stated_from.is_not(None)
        )
    )
    for offering_id, start in rows:
        if start is not None:
            starts[offering_id].append(start)
    return starts


def _release_dates(session: Session, desired: Mapping[int, Any]) -> dict[int, datetime]:
    """The release date of each route's model, for dated prices without a start."""
    undated_starts = [
        offering_id
        for offering_id, prices in desired.items()
        if any(p.effective_from is None and p.effective_to is not None for p in prices)
    ]
    found: dict[int, datetime] = {}
    for chunk in chunked(undated_starts):
        rows = session.execute(
            select(Offering.id, LlmModel.released_on)
            .join(LlmModel, LlmModel.id == Offering.model_id)
            .where(Offering.id.in_(chunk), LlmModel.released_on.is_not(None))
        )
        for offering_id, day in rows:
            if day is not None:
                found[offering_id] = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return found


def _replace_undated(
    session: Session,
    offering_id: int,
    current: ObservedPrice | None,
    price: PriceObservation | None,
    *,
    source: str,
    stated_at: datetime,
    now: datetime,
    run_id: int | None,
) -> bool:
    """Close the source's open undated price at ``stated_at`` (kept as history; dropped
    when it began no earlier) and open ``price`` from then."""
    if current is not None:
        if current.effective_from < stated_at:
            current.effective_to = stated_at
        else:
            session.delete(current)
    if price is not None:
        session.add(
            _observed(
                offering_id,
                price,
                source=source,
                dated=False,
                start=stated_at,
                stated_at=stated_at,
                now=now,
                run_id=run_id,
            )
        )
    return current is not None or price is not None


def close_and_observe(
    session: Session,
    *,
    offering_id: int,
    source: str,
    price: PriceObservation,
    stated_at: datetime,
    now: datetime,
    run_id: int | None,
) -> None:
    """Make ``price`` the source's undated price for one route from ``stated_at`` on."""
    current = session.scalars(
        select(ObservedPrice).where(
            ObservedPrice.offering_id == offering_id,
            ObservedPrice.source == source,
            ObservedPrice.dated.is_(False),
            ObservedPrice.effective_to.is_(None),
        )
    ).one_or_none()
    _replace_undated(
        session,
        offering_id,
        current,
        price,
        source=source,
        stated_at=stated_at,
        now=now,
        run_id=run_id,
    )
    session.flush()


def sync_listings(
    session: Session, *, source: str, listed: Mapping[int, tuple[str, int | None]], now: datetime
) -> set[int]:
    """Record which routes ``source`` lists (the provider's model id and context window it
    states); a route it no longer lists loses its listing. Returns the routes touched."""
    existing = {
        row.offering_id: row
        for row in session.scalars(select(OfferingListing).where(OfferingListing.source == source))
    }
    touched = set(existing.keys() - listed.keys())
    for offering_id in touched:
        session.delete(existing[offering_id])
    for offering_id, (provider_model_id, context_window) in listed.items():
        row = existing.get(offering_id)
        if row is None:
            session.add(
                OfferingListing(
                    offering_id=offering_id,
                    source=source,
                    provider_model_id=provider_model_id,
                    context_window=context_window,
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
            touched.add(offering_id)
            continue
        row.last_seen_at = now
        if (row.provider_model_id, row.context_window) != (provider_model_id, context_window):
            row.provider_model_id, row.context_window = provider_model_id, context_window
            touched.add(offering_id)
    session.flush()
    return touched


def _offerings_with_provider(session: Session, ids: list[int]) -> list[tuple[Offering, str]]:
    statement = (
        select(Offering, Provider.slug)
        .join(Provider, Provider.id == Offering.provider_id)
        .where(Offering.id.in_(ids))
    )
    return [(offering, slug) for offering, slug in session.execute(statement)]


def _grouped_by_offering(session: Session, table: Any, ids: list[int]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in session.scalars(select(table).where(table.offering_id.in_(ids))):
        grouped[row.offering_id].append(row)
    return grouped


def refresh_offerings(session: Session, offering_ids: Collection[int], *, now: datetime) -> None:
    """A route's status, provider model id and context window from its listings: DEPRECATED
    once no source lists it; the rest from the best-ranked source that states them."""
    priority = load_source_priority(session)
    for chunk in chunked(offering_ids):
        listings = _grouped_by_offering(session, OfferingListing, chunk)
        for offering, provider_slug in _offerings_with_provider(session, chunk):
            ranked = sorted(
                listings.get(offering.id, []),
                key=lambda row: priority.key(row.source, provider_slug),
            )
            status = "ACTIVE" if ranked else "DEPRECATED"
            model_id = ranked[0].provider_model_id if ranked else offering.provider_model_id
            context = next(
                (row.context_window for row in ranked if row.context_window is not None), None
            )
            if (offering.status, offering.provider_model_id, offering.context_window) != (
                status,
                model_id,
                context,
            ):
                offering.status, offering.provider_model_id, offering.context_window = (
                    status,
                    model_id,
                    context,
                )
                offering.updated_at = now
    session.flush()


def resolve_prices(
    session: Session, offering_ids: Collection[int], *, now: datetime, run_id: int | None
) -> list[PriceChangeEvent]:
    """Rebuild the resolved history of the given routes from every source's observations,
    and write one event per route whose price in force now changed."""
    events: list[PriceChangeEvent] = []
    priority = load_source_priority(session)
    for chunk in chunked(offering_ids):
        observations = _grouped_by_offering(session, ObservedPrice, chunk)
        history = _grouped_by_offering(session, Price, chunk)
        for offering, provider_slug in _offerings_with_provider(session, chunk):
            segments = resolve_timeline(observations.get(offering.id, []), provider_slug, priority)
            old_rows = sorted(history.get(offering.id, []), key=lambda row: row.effective_from)
            old = [_segment_of(row) for row in old_rows]
            if old != segments:
                for row in old_rows:
                    session.delete(row)
                session.add_all(_price_row(offering.id, segment, now) for segment in segments)
            event = _event(
                offering, state_at(old, now), state_at(segments, now), now=now, run_id=run_id
            )
            if event is not None:
                if not events:
                    serialize_event_ids(session)
                session.add(event)
                events.append(event)
    session.flush()
    return events


EVENT_ID_LOCK = 7_426_001


def serialize_event_ids(session: Session) -> None:
    """Hold a transaction-level lock while writing events, so that event ids follow commit
    order on PostgreSQL and a reader resuming after an id can never skip one. (SQLite
    writers are serialized already.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_ID_LOCK})


def _segment_of(row: Price) -> Segment:
    return Segment(state=stored_state(row), end=row.effective_to)


def _price_row(offering_id: int, segment: Segment, now: datetime) -> Price:
    state = segment.state
    return Price(
        offering_id=offering_id,
        source=state.source,
        input_per_mtok=state.input_per_mtok,
        output_per_mtok=state.output_per_mtok,
        cached_input_per_mtok=state.cached_input_per_mtok,
        tiers=state.tiers,
        effective_from=state.effective_from,
        effective_to=segment.end,
        stated_at=state.stated_at,
        confirmed_at=state.confirmed_at,
        tiers_source=state.tiers_source,
        created_at=now,
    )


def _event(
    offering: Offering,
    previous: PriceState | None,
    current: PriceState | None,
    *,
    now: datetime,
    run_id: int | None,
) -> PriceChangeEvent | None:
    """ADDED (a route's first price), CHANGED, or REMOVED (no price any more); none when
    the value stays the same (a better source confirming a price is not a change)."""
    before = previous.value if previous is not None else None
    after = current.value if current is not None else None
    if before == after:
        return None
    kind = "ADDED" if before is None else "REMOVED" if after is None else "CHANGED"
    return PriceChangeEvent(
        kind=kind,
        offering_id=offering.id,
        model_id=offering.model_id,
        provider_id=offering.provider_id,
        previous=previous,
        current=current,
        occurred_at=now,
        feed_run_id=run_id,
    )


def activate_due_prices(session: Session, *, now: datetime) -> list[PriceChangeEvent]:
    """Announce resolved prices whose date has come: for every route whose history starts
    or ends a price since its last event, an event from what that event announced to the
    price in force now (none when they are the same)."""
    last_event = (
        select(func.max(PriceChangeEvent.occurred_at))
        .where(PriceChangeEvent.offering_id == Price.offering_id)
        .correlate(Price)
        .scalar_subquery()
    )
    boundary_passed = or_(
        and_(
            Price.effective_from <= now,
            Price.effective_from > func.coalesce(last_event, Price.created_at),
        ),
        and_(
            Price.effective_to <= now,
            Price.effective_to > func.coalesce(last_event, Price.created_at),
        ),
    )
    offering_ids = sorted(set(session.scalars(select(Price.offering_id).where(boundary_passed))))
    events: list[PriceChangeEvent] = []
    for chunk in chunked(offering_ids):
        history = _grouped_by_offering(session, Price, chunk)
        announced = _last_announced(session, chunk)
        for offering, _slug in _offerings_with_provider(session, chunk):
            segments = [_segment_of(row) for row in history.get(offering.id, [])]
            event = _event(
                offering, announced.get(offering.id), state_at(segments, now), now=now, run_id=None
            )
            if event is not None:
                if not events:
                    serialize_event_ids(session)
                session.add(event)
                events.append(event)
    session.flush()
    return events


def _last_announced(session: Session, offering_ids: list[int]) -> dict[int, PriceState | None]:
    latest = (
        select(PriceChangeEvent.offering_id, func.max(PriceChangeEvent.id).label("id"))
        .where(PriceChangeEvent.offering_id.in_(offering_ids))
        .group_by(PriceChangeEvent.offering_id)
        .subquery()
    )
    rows = session.scalars(
        select(PriceChangeEvent).join(latest, PriceChangeEvent.id == latest.c.id)
    )
    return {row.offering_id: row.current for row in rows}


def prune_events(session: Session, *, before: datetime) -> int:
    """Delete published events older than ``before`` (the retention); resuming after one of
    them is then EVENTS_EXPIRED. Unpublished events are never dropped."""
    # A DELETE answers a CursorResult (which has the row count); execute() is typed as Result.
    result = cast(
        "CursorResult[Any]",
        session.execute(
            delete(PriceChangeEvent).where(
                PriceChangeEvent.occurred_at < before, PriceChangeEvent.published_at.is_not(None)
            )
        ),
    )
    return int(result.rowcount or 0)
