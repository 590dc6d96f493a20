"""Implausible price changes are held for review, not applied, until ops decide.

A feed's new undated price for a route is held when, next to that feed's previous price
for it, a paid part drops to zero or a part moves by more than the configured factor
(schema.domain.prices.implausible_change); and on every load, a first observation too,
when a part is above the token-price ceiling or more than 100 times the median of the
other sources' current prices for the same model (implausible_level). At most one PENDING
hold per route and feed: a later observation from the feed supersedes it; the same
observation again holds nothing new, nor does one that ops already rejected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from schema.domain.observations import PriceObservation
from schema.domain.prices import (
    PARTS,
    PriceState,
    PriceValue,
    implausible_change,
    implausible_level,
)
from schema.models import HeldPriceChange, ObservedPrice, Offering, PriceChangeEvent
from schema.services.prices import close_and_observe, resolve_prices


class HoldNotFound(LookupError):
    pass


class HoldConflict(ValueError):
    pass


def _state(price: ObservedPrice | PriceObservation, source: str, since: datetime) -> PriceState:
    value = PriceValue.of(price)
    return PriceState(
        value.input_per_mtok,
        value.output_per_mtok,
        value.cached_input_per_mtok,
        value.tiers,
        source,
        since,
    )


class PriceGuard:
    """Decides, for one feed's snapshot, which new prices are applied and which are held;
    ``offering_ids``: the routes the snapshot prices (the only ones it is asked about)."""

    def __init__(
        self,
        session: Session,
        offering_ids: Collection[int],
        *,
        source: str,
        now: datetime,
        stated_at: datetime,
        run_id: int | None,
        factor: Decimal,
    ) -> None:
        self.session, self.source, self.now, self.stated_at, self.run_id, self.factor = (
            session,
            source,
            now,
            stated_at,
            run_id,
            factor,
        )
        self.held = 0
        self._model_of, self._others = _other_sources_prices(session, offering_ids, source, now)
        holds = session.scalars(
            select(HeldPriceChange)
            .where(
                HeldPriceChange.source == source,
                HeldPriceChange.status.in_(("PENDING", "REJECTED")),
            )
            .order_by(HeldPriceChange.id)
        )
        self._pending: dict[int, HeldPriceChange] = {}
        self._rejected: dict[int, set[PriceValue]] = {}
        for hold in holds:
            if hold.status == "PENDING":
                self._pending[hold.offering_id] = hold
            else:
                self._rejected.setdefault(hold.offering_id, set()).add(hold.proposed.value)

    def allows(
        self, offering_id: int, current: ObservedPrice | None, proposed: PriceObservation
    ) -> bool:
        """True to apply ``proposed`` in place of the feed's ``current`` price (None: its
        first price for the route); False when it is held (or was rejected before)."""
        pending = self._pending.get(offering_id)
        new_value = PriceValue.of(proposed)
        others = self._others.get(self._model_of.get(offering_id, -1), {})
        reason = implausible_level(new_value, others)
        if current is not None:
            reason = (
                "; ".join(
                    filter(
                        None,
                        (
                            implausible_change(PriceValue.of(current), new_value, self.factor),
                            reason,
                        ),
                    )
                )
                or None
            )
        if reason is None:
            if pending is not None:
                self._supersede(pending)
            return True
        if pending is not None and pending.proposed.value == new_value:
            return False
        if new_value in self._rejected.get(offering_id, set()):
            return False
        if pending is not None:
            self._supersede(pending)
        hold = HeldPriceChange(
            offering_id=offering_id,
            source=self.source,
            current=_state(current, self.source, current.effective_from) if current else None,
            proposed=_state(proposed, self.source, self.stated_at),
            reason=reason,
            status="PENDING",
            held_at=self.now,
            feed_run_id=self.run_id,
        )
        self.session.add(hold)
        self.session.flush()
        self._pending[offering_id] = hold
        self.held += 1
        return False

    def _supersede(self, hold: HeldPriceChange) -> None:
        hold.status, hold.decided_at = "SUPERSEDED", self.now
        self.session.flush()
        self._pending.pop(hold.offering_id, None)


def _other_sources_prices(
    session: Session, offering_ids: Collection[int], source: str, now: datetime
) -> tuple[dict[int, int], dict[int, dict[str, list[Decimal]]]]:
    """The model of each of ``offering_ids``, and per such model the other sources'
    prices in force now on any of its routes, per part."""
    model_of: dict[int, int] = dict(
        session.execute(
            select(Offering.id, Offering.model_id).where(Offering.id.in_(offering_ids))
        ).all()
    )
    others: dict[int, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    rows = session.execute(
        select(Offering.model_id, *(getattr(ObservedPrice, name) for _label, name in PARTS))
        .join(Offering, Offering.id == ObservedPrice.offering_id)
        .where(
            Offering.model_id.in_(set(model_of.values())),
            ObservedPrice.source != source,
            ObservedPrice.effective_from <= now,
            (ObservedPrice.effective_to.is_(None)) | (ObservedPrice.effective_to > now),
        )
    )
    for model_id, *amounts in rows:
        for (_label, name), amount in zip(PARTS, amounts, strict=True):
            if amount is not None:
                others[model_id][name].append(amount)
    return model_of, others


def _pending_hold(session: Session, hold_id: int) -> HeldPriceChange:
    hold = session.scalars(
        select(HeldPriceChange).where(HeldPriceChange.id == hold_id).with_for_update()
    ).one_or_none()
    if hold is None:
        raise HoldNotFound(f"no held price change with id {hold_id}")
    if hold.status != "PENDING":
        raise HoldConflict(f"held price change {hold_id} was already decided: {hold.status}")
    return hold


def approve_hold(
    session: Session, hold_id: int, *, now: datetime
) -> tuple[HeldPriceChange, list[PriceChangeEvent]]:
    """Apply the held price as its feed's observation; the events of the resolved change."""
    hold = _pending_hold(session, hold_id)
    proposed = hold.proposed
    close_and_observe(
        session,
        offering_id=hold.offering_id,
        source=hold.source,
        price=PriceObservation(
            proposed.input_per_mtok,
            proposed.output_per_mtok,
            proposed.cached_input_per_mtok,
            proposed.tiers,
        ),
        stated_at=proposed.effective_from,
        now=now,
        run_id=hold.feed_run_id,
    )
    hold.status, hold.decided_at = "APPROVED", now
    events = resolve_prices(session, [hold.offering_id], now=now, run_id=hold.feed_run_id)
    return hold, events


def reject_hold(session: Session, hold_id: int, *, now: datetime) -> HeldPriceChange:
    hold = _pending_hold(session, hold_id)
    hold.status, hold.decided_at = "REJECTED", now
    session.flush()
    return hold
