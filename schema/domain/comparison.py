"""A comparison of 2 to 4 models, resolved from their facts: pure rules, no I/O.

``resolve_comparison`` takes what the database holds about each model (``ModelFacts`` with
its ``RouteFacts``) and returns a ``Comparison`` that mirrors the contract's type: models
are named by slug and listed in the order asked, offerings by id, providers by slug. The
prose (verdict, reasons, notes, deep dive, FAQ) is written in ``comparison_text`` from the
``Findings`` below and nothing else.

Signals and their leaders
-------------------------
A signal's leader is the one model with the best value. There is no leader when two or
more models share the best value, or when any model lacks the data: an unknown price is
not a low price. The scorecard rows, in this order:

- Decision fit: the decision tags (``tags.decision_tags``) joined, "-" when none. More tags
  lead; no leader while a model states no context window or no input modalities, since
  its tags are then unknown rather than absent.
- Context window: "8K", "131K", "1M", "1.04M", "-" when unknown. The larger leads.
- Cheapest output: the lowest output price of an active route, "$0.25/1M tokens", "-" when
  none. The lower leads.
- Provider routes: distinct providers with an active route, "1 tracked". More lead.
- Shared benchmarks: how many benchmarks every model is scored on, "0 rows". The value is
  the same for every model, so it never has a leader.

Two more signals count towards the recommendation without a scorecard row:

- Licence clarity: a known licence with open weights (rank 2) beats a known licence whose
  weights are closed or not stated (rank 1), which beats an unknown licence (rank 0).
- Capability coverage: more capabilities known to be true lead.

The recommendation
------------------
``recommended`` is the model that leads on the most of those seven signals. When models
tie on that count, the tie-breaks below are applied in order, among the tied models only.
A step applies only when every model still in the running has the fact; it keeps those
with the best value, and the first step that leaves one model decides:

1. the lower exact monthly cost estimate at the traffic;
2. the larger context window;
3. the later release date.

When no step leaves a single model, ``recommended`` is None. Nothing here depends on the
order in which models are asked, so a permuted request gets the same key, leaders and
recommendation, with its rows in the new order.

Costs
-----
A model's estimate uses ``costs.cheapest_route`` over its active routes (the cheapest at
the traffic with a complete price; ties: provider slug, then provider model id) and
``costs.monthly_cost`` (cached share and long-context tiers). Estimates stay exact; they
are rounded half-even to cents only in ``MonthlyCost.monthly_usd``, and ``cost_delta`` is
the exact difference rounded once.

Signal names, capability labels and the phrases of the prose live in ``comparison_text``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from schema.domain import comparison_text as text
from schema.domain.comparison_errors import MAX_MODELS, MIN_MODELS
from schema.domain.comparison_text import (
    CAPABILITY_COVERAGE,
    CAPABILITY_LABELS,
    CHEAPEST_OUTPUT,
    CONTEXT_WINDOW,
    DECISION_FIT,
    LICENCE_CLARITY,
    PROVIDER_ROUTES,
    SHARED_BENCHMARKS,
    SIGNALS,
)
from schema.domain.costs import Traffic, cheapest_route, monthly_cost
from schema.domain.money import round_cents
from schema.domain.observations import PriceTierObservation
from schema.domain.tags import decision_tags

KEY_SEPARATOR = "-vs-"

# --- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceFacts:
    """A route's price in force, USD per 1M tokens; None where the provider states none."""

    input_per_mtok: Decimal | None
    output_per_mtok: Decimal | None
    cached_input_per_mtok: Decimal | None = None
    tiers: tuple[PriceTierObservation, ...] = ()


@dataclass(frozen=True)
class RouteFacts:
    """One offering: a provider serving the model under its own model id."""

    offering_id: int
    provider_slug: str
    provider_name: str
    provider_model_id: str
    region: str | None = None
    active: bool = True
    price: PriceFacts | None = None


@dataclass(frozen=True)
class BenchmarkFacts:
    slug: str
    name: str
    higher_is_better: bool
    score: float


@dataclass(frozen=True)
class ModelFacts:
    """What is known of one model. None, an empty tuple or a missing key means "the data
    does not say", never false or zero.

    ``capabilities`` maps Capability names to what the data states: True (has it), False
    (stated not to have it); a capability that is not a key is unknown.
    """

    id: int
    slug: str
    name: str
    creator_name: str | None = None
    released_on: date | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    parameters_billions: Decimal | None = None
    architecture: str | None = None
    license: str | None = None
    open_weights: bool | None = None
    input_modalities: tuple[str, ...] = ()
    output_modalities: tuple[str, ...] = ()
    capabilities: Mapping[str, bool] = field(default_factory=dict)
    routes: tuple[RouteFacts, ...] = ()
    benchmarks: Mapping[str, BenchmarkFacts] = field(default_factory=dict)
    last_reviewed_on: date | None = None

    def capability(self, name: str) -> bool | None:
        """True, False, or None when the data does not say."""
        return self.capabilities.get(name)

    @property
    def active_routes(self) -> tuple[RouteFacts, ...]:
        return tuple(route for route in self.routes if route.active)

    @property
    def active_provider_slugs(self) -> frozenset[str]:
        return frozenset(route.provider_slug for route in self.active_routes)


# --- outputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorecardRow:
    signal: str
    values: tuple[str, ...]
    leader: str | None


@dataclass(frozen=True)
class Tradeoff:
    model: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class MonthlyCost:
    model: str
    available: bool
    monthly_usd: Decimal | None
    offering_id: int | None
    reason: str | None


@dataclass(frozen=True)
class SwitchFriction:
    from_model: str
    to_model: str
    shared_providers: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class CapabilityRow:
    capability: str
    label: str
    values: tuple[bool | None, ...]


@dataclass(frozen=True)
class BenchmarkRow:
    slug: str
    name: str
    higher_is_better: bool
    scores: tuple[float, ...]


@dataclass(frozen=True)
class FaqEntry:
    question: str
    answer: str


@dataclass(frozen=True)
class Comparison:
    """The contract's Comparison without ``related`` (that needs the catalog). Models are
    slugs in the order asked; every per-model tuple follows that order."""

    key: str
    models: tuple[str, ...]
    traffic: Traffic
    recommended: str | None
    verdict: str
    scorecard: tuple[ScorecardRow, ...]
    tradeoffs: tuple[Tradeoff, ...]
    monthly_costs: tuple[MonthlyCost, ...]
    cost_delta: Decimal | None
    switch_friction: tuple[SwitchFriction, ...]
    capability_matrix: tuple[CapabilityRow, ...]
    shared_benchmarks: tuple[BenchmarkRow, ...]
    deep_dive: tuple[str, ...]
    faq: tuple[FaqEntry, ...]
    last_reviewed_on: date | None
    generated_at: datetime


# --- findings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """The route a model's monthly estimate uses and the exact, unrounded USD."""

    route: RouteFacts | None
    usd: Decimal | None


@dataclass(frozen=True)
class Findings:
    """What the rules found, in the order of ``models``; the prose is written from this."""

    models: tuple[ModelFacts, ...]
    traffic: Traffic
    scorecard: tuple[ScorecardRow, ...]
    leaders: Mapping[str, str | None]
    """Every signal of SIGNALS -> the slug of its leader, or None."""
    estimates: tuple[Estimate, ...]
    shared_benchmarks: tuple[BenchmarkRow, ...]
    cheapest_estimate: str | None
    """The slug of the one model with the lowest monthly estimate, None on a tie or when
    any model has no estimate (not a signal: it does not count for the recommendation)."""
    recommended: str | None
    decided_by: str | None
    """None when the signal count decided alone, else the tie-break that did
    ("monthly cost", "context window", "release date"); "tie" when none did."""

    def leads(self, slug: str) -> tuple[str, ...]:
        """The signals this model leads, strongest first (the order of SIGNALS)."""
        return tuple(signal for signal in SIGNALS if self.leaders[signal] == slug)


Ranked = TypeVar("Ranked", int, Decimal, date)


def best_index(values: Sequence[Ranked | None], *, lowest: bool = False) -> int | None:
    """The position of the one best value; None when any value is unknown or when two or
    more share the best value."""
    known = [value for value in values if value is not None]
    if len(known) != len(values):
        return None
    best = min(known) if lowest else max(known)
    winners = [index for index, value in enumerate(known) if value == best]
    return winners[0] if len(winners) == 1 else None


def estimate(model: ModelFacts, traffic: Traffic) -> Estimate:
    """The cheapest active route with a complete price at ``traffic`` (ties: provider slug,
    then provider model id) and its exact monthly cost; both None when no route has one."""
    candidates = [
        (route, route.price, route.provider_slug, route.provider_model_id)
        for route in model.active_routes
    ]
    route = cheapest_route(candidates, traffic)
    if route is None:
        return Estimate(None, None)
    return Estimate(route, monthly_cost(route.price, traffic))


def cheapest_output_price(model: ModelFacts) -> Decimal | None:
    """The lowest base output price among the model's active routes."""
    prices = [
        route.price.output_per_mtok
        for route in model.active_routes
        if route.price is not None and route.price.output_per_mtok is not None
    ]
    return min(prices, default=None)


def licence_rank(model: ModelFacts) -> int:
    """2: known licence with open weights; 1: known licence; 0: unknown licence."""
    if model.license is None:
        return 0
    return 2 if model.open_weights else 1


def capabilities_known_true(model: ModelFacts) -> int:
    return sum(1 for name in CAPABILITY_LABELS if model.capability(name))


def _decision_fit_rank(model: ModelFacts, tags: Sequence[str]) -> int | None:
    stated = model.context_window is not None and bool(model.input_modalities)
    return len(tags) if stated else None


def _shared_benchmarks(models: Sequence[ModelFacts]) -> tuple[BenchmarkRow, ...]:
    """Benchmarks scored for every model, by slug; name and direction from the first."""
    shared = set(models[0].benchmarks).intersection(*(model.benchmarks for model in models[1:]))
    rows = []
    for slug in sorted(shared):
        first = models[0].benchmarks[slug]
        scores = tuple(model.benchmarks[slug].score for model in models)
        rows.append(BenchmarkRow(slug, first.name, first.higher_is_better, scores))
    return tuple(rows)


def _scorecard(
    models: Sequence[ModelFacts], benchmark_rows: int
) -> tuple[tuple[ScorecardRow, ...], dict[str, str | None]]:
    slugs = [model.slug for model in models]

    def row(signal: str, values: Sequence[str], leader: int | None) -> ScorecardRow:
        return ScorecardRow(signal, tuple(values), None if leader is None else slugs[leader])

    tags = [decision_tags(model.context_window, model.input_modalities) for model in models]
    outputs = [cheapest_output_price(model) for model in models]
    providers = [len(model.active_provider_slugs) for model in models]
    contexts = [model.context_window for model in models]
    rows = (
        row(
            DECISION_FIT,
            [text.join_words(model_tags) or "-" for model_tags in tags],
            best_index([_decision_fit_rank(m, t) for m, t in zip(models, tags, strict=True)]),
        ),
        row(CONTEXT_WINDOW, [text.context_label(c) for c in contexts], best_index(contexts)),
        row(
            CHEAPEST_OUTPUT,
            [text.output_price_label(price) for price in outputs],
            best_index(outputs, lowest=True),
        ),
        row(PROVIDER_ROUTES, [f"{count} tracked" for count in providers], best_index(providers)),
        row(SHARED_BENCHMARKS, [text.count_text(benchmark_rows, "row")] * len(models), None),
    )
    leaders = {item.signal: item.leader for item in rows}
    for signal, ranks in (
        (LICENCE_CLARITY, [licence_rank(model) for model in models]),
        (CAPABILITY_COVERAGE, [capabilities_known_true(model) for model in models]),
    ):
        index = best_index(ranks)
        leaders[signal] = None if index is None else slugs[index]
    return rows, leaders


def _tie_break_scores(
    models: Sequence[ModelFacts], estimates: Sequence[Estimate]
) -> tuple[tuple[str, list[Decimal | None]], ...]:
    """Each tie-break as scores where higher wins, None where the fact is unknown."""
    return (
        ("monthly cost", [None if item.usd is None else -item.usd for item in estimates]),
        (
            "context window",
            [None if m.context_window is None else Decimal(m.context_window) for m in models],
        ),
        (
            "release date",
            [None if m.released_on is None else Decimal(m.released_on.toordinal()) for m in models],
        ),
    )


def _recommend(
    models: Sequence[ModelFacts], leaders: Mapping[str, str | None], estimates: Sequence[Estimate]
) -> tuple[str | None, str | None]:
    """(slug or None, what decided it) by the rules in the module docstring."""
    points = [sum(1 for leader in leaders.values() if leader == m.slug) for m in models]
    running = [index for index, count in enumerate(points) if count == max(points)]
    if len(running) == 1:
        return models[running[0]].slug, None
    for name, scores in _tie_break_scores(models, estimates):
        known = [scores[index] for index in running]
        if any(score is None for score in known):
            continue
        best = max(score for score in known if score is not None)
        running = [index for index in running if scores[index] == best]
        if len(running) == 1:
            return models[running[0]].slug, name
    return None, "tie"


def findings_for(models: Sequence[ModelFacts], traffic: Traffic) -> Findings:
    """Everything the comparison decides, before any prose."""
    estimates = tuple(estimate(model, traffic) for model in models)
    benchmarks = _shared_benchmarks(models)
    scorecard, leaders = _scorecard(models, len(benchmarks))
    recommended, decided_by = _recommend(models, leaders, estimates)
    cheapest = best_index([item.usd for item in estimates], lowest=True)
    return Findings(
        models=tuple(models),
        traffic=traffic,
        scorecard=scorecard,
        leaders=leaders,
        estimates=estimates,
        shared_benchmarks=benchmarks,
        cheapest_estimate=None if cheapest is None else models[cheapest].slug,
        recommended=recommended,
        decided_by=decided_by,
    )


# --- assembly -----------------------------------------------------------------------------


def comparison_key(slugs: Sequence[str]) -> str:
    """Slugs sorted and joined by '-vs-': the same for any order of the same models."""
    return KEY_SEPARATOR.join(sorted(slugs))


def _monthly_costs(findings: Findings) -> tuple[MonthlyCost, ...]:
    costs = []
    for model, item in zip(findings.models, findings.estimates, strict=True):
        if item.route is None or item.usd is None:
            costs.append(MonthlyCost(model.slug, False, None, None, text.no_estimate_reason(model)))
        else:
            costs.append(
                MonthlyCost(model.slug, True, round_cents(item.usd), item.route.offering_id, None)
            )
    return tuple(costs)


def cost_delta(estimates: Sequence[Estimate]) -> Decimal | None:
    """Most minus least expensive exact estimate, rounded once to cents; None unless every
    model has an estimate."""
    amounts = [item.usd for item in estimates if item.usd is not None]
    if len(amounts) != len(estimates):
        return None
    return round_cents(max(amounts) - min(amounts))


def _switch_friction(findings: Findings) -> tuple[SwitchFriction, ...]:
    frictions = []
    for source, origin in enumerate(findings.models):
        for target, destination in enumerate(findings.models):
            if source == target:
                continue
            shared = sorted(origin.active_provider_slugs & destination.active_provider_slugs)
            notes = text.friction_notes(findings, source, target, shared)
            frictions.append(
                SwitchFriction(origin.slug, destination.slug, tuple(shared), tuple(notes))
            )
    return tuple(frictions)


def _capability_matrix(models: Sequence[ModelFacts]) -> tuple[CapabilityRow, ...]:
    return tuple(
        CapabilityRow(name, label, tuple(model.capability(name) for model in models))
        for name, label in CAPABILITY_LABELS.items()
    )


def _check_models(models: Sequence[ModelFacts], now: datetime) -> None:
    """Programming errors only: requests are checked first by ``validate_request``."""
    if not MIN_MODELS <= len(models) <= MAX_MODELS:
        raise ValueError(f"a comparison takes {MIN_MODELS} to {MAX_MODELS} models")
    if len({model.slug for model in models}) != len(models):
        raise ValueError("a comparison takes distinct models")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def resolve_comparison(
    models: Sequence[ModelFacts], traffic: Traffic, *, now: datetime
) -> Comparison:
    """The whole comparison of 2 to 4 distinct models at ``traffic``, generated at ``now``."""
    _check_models(models, now)
    findings = findings_for(models, traffic)
    reviewed = [model.last_reviewed_on for model in models if model.last_reviewed_on]
    return Comparison(
        key=comparison_key([model.slug for model in models]),
        models=tuple(model.slug for model in models),
        traffic=traffic,
        recommended=findings.recommended,
        verdict=text.verdict(findings),
        scorecard=findings.scorecard,
        tradeoffs=tuple(
            Tradeoff(model.slug, tuple(text.tradeoff_reasons(findings, index)))
            for index, model in enumerate(models)
        ),
        monthly_costs=_monthly_costs(findings),
        cost_delta=cost_delta(findings.estimates),
        switch_friction=_switch_friction(findings),
        capability_matrix=_capability_matrix(models),
        shared_benchmarks=findings.shared_benchmarks,
        deep_dive=tuple(text.deep_dive(findings)),
        faq=tuple(FaqEntry(question, answer) for question, answer in text.faq(findings)),
        last_reviewed_on=max(reviewed, default=None),
        generated_at=now,
    )
