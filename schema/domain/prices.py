"""Which source's price is shown, over time: the documented priority of sources.

Priority (docs/data.md): the curated file, then the provider's own feed (a feed of kind
``openrouter`` for OpenRouter's routes), then every other feed by its rank, lower first:
the rank of its kind (KIND_RANKS; LiteLLM, genai-prices, models.dev, llm-prices,
OpenRouter, then any other kind) unless the feed source sets its own (``llmref feeds set
SLUG --rank N``). Equal ranks go by slug. At every moment the shown price is the in-force
observation of the best-ranked source (within one source, the one that took effect last),
except for a lower-ranked source's scheduled change that is newer than every better-ranked
claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from statistics import median
from typing import Any, Protocol

from schema.domain.observations import PriceTierObservation

CURATED = "curated"
KIND_RANKS = {
    "litellm": 20,
    "genai-prices": 30,
    "models.dev": 40,
    "llm-prices": 50,
    "openrouter": 60,
}
"""The rank of a feed by its kind (lower wins), spaced so that a feed's own rank can go
between two kinds."""
OTHER_KIND_RANK = 90


def kind_rank(kind: str) -> int:
    return KIND_RANKS.get(kind, OTHER_KIND_RANK)


@dataclass(frozen=True)
class FeedRank:
    kind: str
    rank: int


@dataclass(frozen=True)
class SourcePriority:
    """The order of the sources of one catalog: feed slug -> its kind and rank. A source
    not listed (a feed source since removed) ranks as a feed of the kind named like it."""

    feeds: Mapping[str, FeedRank] = field(default_factory=dict)

    def key(self, source: str, provider_slug: str) -> tuple[int, int, str]:
        """Lower wins."""
        if source == CURATED:
            return (0, 0, source)
        feed = self.feeds.get(source) or FeedRank(source, kind_rank(source))
        return (1 if feed.kind == provider_slug else 2, feed.rank, source)


@dataclass(frozen=True)
class PriceValue:
    """The parts of a price that make it a different price when any of them changes."""

    input_per_mtok: Decimal | None
    output_per_mtok: Decimal | None
    cached_input_per_mtok: Decimal | None = None
    tiers: tuple[PriceTierObservation, ...] = ()

    @classmethod
    def of(cls, row: Any) -> PriceValue:
        return cls(
            row.input_per_mtok, row.output_per_mtok, row.cached_input_per_mtok, tuple(row.tiers)
        )

    @property
    def complete(self) -> bool:
        return self.input_per_mtok is not None and self.output_per_mtok is not None


@dataclass(frozen=True)
class PriceState:
    """A resolved price as shown at some moment: its value, its source, since when."""

    input_per_mtok: Decimal | None
    output_per_mtok: Decimal | None
    cached_input_per_mtok: Decimal | None
    tiers: tuple[PriceTierObservation, ...]
    source: str
    effective_from: datetime
    stated_at: datetime | None = None
    """The data date of the snapshot that first stated it."""
    confirmed_at: datetime | None = None
    """The data date of the latest snapshot that still states it."""
    tiers_source: str | None = None
    """The source that states the tiers, when another than ``source`` (docs/data.md)."""

    @property
    def value(self) -> PriceValue:
        return PriceValue.of(self)


class StoredPrice(Protocol):
    """What a stored price in force gives (Price rows, and rows selected with its columns)."""

    input_per_mtok: Decimal | None
    output_per_mtok: Decimal | None
    cached_input_per_mtok: Decimal | None
    tiers: Any
    source: str
    effective_from: datetime
    stated_at: datetime | None
    confirmed_at: datetime | None
    tiers_source: str | None


def stored_state(row: StoredPrice) -> PriceState:
    """The state a stored price shows."""
    return PriceState(
        row.input_per_mtok,
        row.output_per_mtok,
        row.cached_input_per_mtok,
        tuple(row.tiers),
        row.source,
        row.effective_from,
        row.stated_at,
        row.confirmed_at,
        row.tiers_source,
    )


class Observation(Protocol):
    """What the timeline needs of a stored observation (ObservedPrice rows fit)."""

    source: str
    effective_from: datetime
    effective_to: datetime | None
    input_per_mtok: Decimal | None
    output_per_mtok: Decimal | None
    cached_input_per_mtok: Decimal | None
    tiers: Any
    stated_from: datetime | None
    stated_at: datetime | None
    confirmed_at: datetime | None


@dataclass(frozen=True)
class Segment:
    """One stretch of the resolved history: [start, end) at one source's price."""

    state: PriceState
    end: datetime | None

    @property
    def start(self) -> datetime:
        return self.state.effective_from

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


def _in_force(observation: Observation, moment: datetime) -> bool:
    return observation.effective_from <= moment and (
        observation.effective_to is None or moment < observation.effective_to
    )


def _claim_date(observation: Observation) -> datetime:
    return observation.stated_at or observation.effective_from


def winner_at(
    covering: Sequence[Observation], provider_slug: str, priority: SourcePriority
) -> Observation:
    """The claim shown at a moment, of the observations in force then (docs/data.md).

    The best-ranked source wins (within one source, the latest to take effect), except
    that a lower-ranked source's scheduled change (a price with a stated start date)
    wins from its start when every better-ranked claim in force was stated before it.
    """

    def rank(o: Observation) -> tuple[tuple[int, int, str], float]:
        return priority.key(o.source, provider_slug), -o.effective_from.timestamp()

    ranked = sorted(covering, key=rank)
    for candidate in ranked[1:]:
        start = candidate.stated_from
        if start is None:
            continue
        better = [o for o in ranked if rank(o)[0] < rank(candidate)[0]]
        if better and all(_claim_date(o) < start for o in better):
            return candidate
    return ranked[0]


def _tiers_for(
    winner: Observation,
    covering: Sequence[Observation],
    provider_slug: str,
    priority: SourcePriority,
) -> Observation | None:
    """When the shown price states no tiers: the best-ranked other claim in force that
    states tiers for the route with the same base input and output price."""
    if winner.tiers:
        return None
    same_base = [
        o
        for o in covering
        if o.tiers
        and (o.input_per_mtok, o.output_per_mtok) == (winner.input_per_mtok, winner.output_per_mtok)
    ]
    return min(same_base, key=lambda o: priority.key(o.source, provider_slug), default=None)


def resolve_timeline(
    observations: Sequence[Observation], provider_slug: str, priority: SourcePriority
) -> list[Segment]:
    """The resolved history of one route from all sources' observations of it."""
    points = sorted(
        {o.effective_from for o in observations}
        | {o.effective_to for o in observations if o.effective_to is not None}
    )
    segments: list[Segment] = []
    winners: list[Observation] = []
    for index, start in enumerate(points):
        end = points[index + 1] if index + 1 < len(points) else None
        covering = [o for o in observations if _in_force(o, start)]
        if not covering:
            continue
        winner = winner_at(covering, provider_slug, priority)
        tiered = _tiers_for(winner, covering, provider_slug, priority)
        if (
            segments
            and winners[-1] is winner
            and segments[-1].end == start
            and segments[-1].state.tiers_source == (tiered.source if tiered else None)
        ):
            segments[-1] = Segment(state=segments[-1].state, end=end)
            continue
        value = PriceValue.of(winner)
        state = PriceState(
            value.input_per_mtok,
            value.output_per_mtok,
            value.cached_input_per_mtok,
            tuple(tiered.tiers) if tiered else value.tiers,
            winner.source,
            start,
            winner.stated_at,
            winner.confirmed_at,
            tiered.source if tiered else None,
        )
        segments.append(Segment(state=state, end=end))
        winners.append(winner)
    return segments


def state_at(segments: Sequence[Segment], moment: datetime) -> PriceState | None:
    return next((segment.state for segment in segments if segment.covers(moment)), None)


DEFAULT_IMPLAUSIBLE_FACTOR = Decimal(10)


def implausible_change(old: PriceValue, new: PriceValue, factor: Decimal) -> str | None:
    """Why a feed's new price for a route is implausible next to its previous one, or None.

    Implausible: a part that was paid drops to zero, or a part moves by more than
    ``factor`` times either way. A part that appears or disappears is not judged here.
    """
    reasons = []
    for label, before, after in (
        ("input", old.input_per_mtok, new.input_per_mtok),
        ("output", old.output_per_mtok, new.output_per_mtok),
        ("cached input", old.cached_input_per_mtok, new.cached_input_per_mtok),
    ):
        if before is None or after is None or before == after:
            continue
        if before > 0 and after == 0:
            reasons.append(f"{label} price drops to zero from {before}")
        elif before > 0 and after > 0 and max(after / before, before / after) > factor:
            reasons.append(f"{label} price moves from {before} to {after}, more than {factor}x")
    return "; ".join(reasons) or None


OUTLIER_FACTOR = Decimal(100)
"""A price part more than this many times the median of other sources' prices for the
same model is held for review, on every load (docs/data.md)."""
TOKEN_PRICE_CEILING = Decimal(1000)
"""USD per 1M tokens of any modality (text, image, audio) above which a price is held:
the dearest real token price in the bundled feeds is $600 (o1-pro output)."""
PARTS = (
    ("input", "input_per_mtok"),
    ("output", "output_per_mtok"),
    ("cached input", "cached_input_per_mtok"),
)


def implausible_level(
    new: PriceValue,
    others: Mapping[str, Sequence[Decimal]],
    *,
    factor: Decimal = OUTLIER_FACTOR,
    ceiling: Decimal = TOKEN_PRICE_CEILING,
) -> str | None:
    """Why a price is implausible on its own, or None: a part above ``ceiling``, or more
    than ``factor`` times the median of the other sources' prices of that part for the
    same model (``others``: attribute name -> those prices, zeros left out)."""
    reasons = []
    for label, name in PARTS:
        amount = getattr(new, name)
        if amount is None or amount <= 0:
            continue
        if amount > ceiling:
            reasons.append(
                f"{label} price {amount} is above the ceiling of {ceiling} per 1M tokens"
            )
        paid = [price for price in others.get(name, ()) if price > 0]
        if paid:
            middle = median(paid)
            if amount > middle * factor:
                reasons.append(
                    f"{label} price {amount} is {amount / middle:,.0f}x the median {middle} "
                    f"of {len(paid)} other source prices for this model"
                )
    return "; ".join(reasons) or None
