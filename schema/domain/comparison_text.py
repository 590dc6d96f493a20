"""The words of a comparison: signal names, labels, and the prose written from ``Findings``.

Every sentence rests on the facts it names (token counts, prices, provider names, flags).
What the data does not hold is said to be unknown or not stated, never guessed: an unknown
licence is "unknown", a capability missing from the data is "not stated", a model without a
priced route has "no estimate".

The verdict names the overall pick and, for each other model, its strongest signal (the
first it leads in ``SIGNALS`` order) through a plain-words phrase, "Choose X when ...":

- Decision fit: "when fit for long-context or vision work matters"
- Context window: "when long inputs matter"
- Cheapest output: "when output price matters"
- Provider routes: "when provider fit matters"
- Shared benchmarks: "when benchmark results matter" (it never leads; kept for completeness)
- Licence clarity: "when a clear licence matters"
- Capability coverage: "when broad capability coverage matters"

This module imports the comparison types for annotations only, so ``comparison`` can
import it at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from schema.domain.money import format_decimal, round_cents

if TYPE_CHECKING:
    from schema.domain.comparison import Findings, ModelFacts, RouteFacts

DECISION_FIT = "Decision fit"
CONTEXT_WINDOW = "Context window"
CHEAPEST_OUTPUT = "Cheapest output"
PROVIDER_ROUTES = "Provider routes"
SHARED_BENCHMARKS = "Shared benchmarks"
LICENCE_CLARITY = "Licence clarity"
CAPABILITY_COVERAGE = "Capability coverage"

SCORECARD_SIGNALS = (
    DECISION_FIT,
    CONTEXT_WINDOW,
    CHEAPEST_OUTPUT,
    PROVIDER_ROUTES,
    SHARED_BENCHMARKS,
)
SIGNALS = (*SCORECARD_SIGNALS, LICENCE_CLARITY, CAPABILITY_COVERAGE)
"""Every signal, scorecard rows first; a model's strongest signal is the first it leads."""

SIGNAL_PHRASES = {
    DECISION_FIT: "when fit for long-context or vision work matters",
    CONTEXT_WINDOW: "when long inputs matter",
    CHEAPEST_OUTPUT: "when output price matters",
    PROVIDER_ROUTES: "when provider fit matters",
    SHARED_BENCHMARKS: "when benchmark results matter",
    LICENCE_CLARITY: "when a clear licence matters",
    CAPABILITY_COVERAGE: "when broad capability coverage matters",
}

TIE_BREAK_PHRASES = {
    "monthly cost": "the lower monthly cost at this traffic",
    "context window": "the larger context window",
    "release date": "the later release date",
}

CAPABILITY_LABELS = {
    "VISION": "Vision",
    "MULTIMODAL": "Multimodal",
    "REASONING": "Reasoning",
    "FUNCTION_CALLING": "Function calling",
    "TOOL_USE": "Tool use",
    "STRUCTURED_OUTPUTS": "Structured outputs",
    "CODE_EXECUTION": "Code execution",
}
"""The Capability enum, in its order, with the label of its capability matrix row."""


# --- small formats ------------------------------------------------------------------------


def join_words(items: Iterable[str], conjunction: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def count_text(count: int, noun: str) -> str:
    """'1 row', '0 rows'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def tokens_text(tokens: int | Decimal) -> str:
    """'262,144'; a fractional count keeps its digits."""
    if tokens == int(tokens):
        return f"{int(tokens):,}"
    return format_decimal(Decimal(tokens))


def context_label(tokens: int | None) -> str:
    """'8K', '131K' (thousands rounded down); '1M', '1.04M' from one million (millions
    rounded down to two decimals); below 1,000 the count itself; '-' when unknown."""
    if tokens is None:
        return "-"
    if tokens >= 1_000_000:
        millions = (Decimal(tokens) / 1_000_000).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        return f"{format_decimal(millions)}M"
    if tokens >= 1_000:
        return f"{tokens // 1_000}K"
    return str(tokens)


def price_text(price: Decimal) -> str:
    """'$0.25' for a per-1M price, exact."""
    return f"${format_decimal(price)}"


def output_price_label(price: Decimal | None) -> str:
    """'$0.25/1M tokens', '-' when unknown."""
    return "-" if price is None else f"{price_text(price)}/1M tokens"


def usd(amount: Decimal) -> str:
    """'$103.00': rounded half-even to cents for display."""
    return f"${round_cents(amount):,}"


def flag_text(model: ModelFacts, capability: str) -> str:
    """'true', 'false' or 'not stated'."""
    state = model.capability(capability)
    return "not stated" if state is None else str(state).lower()


def licence_text(model: ModelFacts) -> str:
    """'Apache-2.0' or 'an unknown licence'."""
    return model.license if model.license is not None else "an unknown licence"


def provider_names(routes: Iterable[RouteFacts]) -> list[str]:
    """Distinct provider names, ordered by provider slug."""
    names = {route.provider_slug: route.provider_name for route in routes}
    return [names[slug] for slug in sorted(names)]


def no_estimate_reason(model: ModelFacts) -> str:
    """Why a model has no monthly estimate."""
    if not model.routes:
        return (
            f"No provider route to {model.name} is tracked, so there is no price to estimate from."
        )
    if not model.active_routes:
        if len(model.routes) == 1:
            return f"The only tracked route to {model.name} is not active."
        return f"None of the {len(model.routes)} tracked routes to {model.name} is active."
    return f"No active route to {model.name} publishes both an input and an output price."


def _others(findings: Findings, index: int) -> list[ModelFacts]:
    return [model for position, model in enumerate(findings.models) if position != index]


def _against(findings: Findings, index: int, describe: Callable[[ModelFacts], str]) -> str:
    """'131,072 for GLM-4V 9B and 8,192 for X'."""
    return join_words(f"{describe(other)} for {other.name}" for other in _others(findings, index))


def _row_values(findings: Findings, signal: str) -> tuple[str, ...]:
    return next(row.values for row in findings.scorecard if row.signal == signal)


# --- verdict and tradeoffs ----------------------------------------------------------------


def verdict(findings: Findings) -> str:
    """The overall pick and, for every other model, when to choose it."""
    names = {model.slug: model.name for model in findings.models}
    counts = {slug: len(findings.leads(slug)) for slug in names}
    if findings.recommended is None:
        top = max(counts.values())
        tied = [names[slug] for slug, count in counts.items() if count == top]
        sentences = [
            f"No model is the safer overall pick: {join_words(tied)} each lead on "
            f"{count_text(top, 'signal')}, and the tie-breaks (monthly cost, context window, "
            "release date) do not separate them."
        ]
    else:
        pick = findings.recommended
        leads = findings.leads(pick)
        why = _leads_phrase(leads)
        if findings.decided_by is not None:
            tied = [names[s] for s, count in counts.items() if count == counts[pick] and s != pick]
            why += f", as many as {join_words(tied)}, and wins the tie-break on "
            why += TIE_BREAK_PHRASES[findings.decided_by]
        sentences = [f"{names[pick]} is the safer overall pick: {why}."]
    for model in findings.models:
        if model.slug == findings.recommended:
            continue
        leads = findings.leads(model.slug)
        if leads:
            sentences.append(f"Choose {model.name} {SIGNAL_PHRASES[leads[0]]}.")
        else:
            sentences.append(f"{model.name} leads on none of these signals.")
    return " ".join(sentences)


def _leads_phrase(leads: Sequence[str]) -> str:
    """What a model leads, counted against the signals the scorecard shows; the two
    signals without a row are named, not counted."""
    rows = [signal for signal in leads if signal in SCORECARD_SIGNALS]
    others = [signal for signal in leads if signal not in SCORECARD_SIGNALS]
    why = f"it leads on {len(rows)} of the {len(SCORECARD_SIGNALS)} scorecard signals"
    if rows:
        why += f" ({join_words(signal.lower() for signal in rows)})"
    if others:
        why += f" and on {join_words(signal.lower() for signal in others)}"
    return why


def _decision_fit_reason(findings: Findings, index: int) -> str:
    values = _row_values(findings, DECISION_FIT)

    def tagged(model: ModelFacts) -> str:
        value = values[findings.models.index(model)]
        return "no tag" if value == "-" else f"'{value}'"

    mine = tagged(findings.models[index])
    return f"you need the broader fit: tagged {mine}, against {_against(findings, index, tagged)}"


def _context_reason(findings: Findings, index: int) -> str:
    def window(model: ModelFacts) -> str:
        return tokens_text(model.context_window or 0)

    mine = window(findings.models[index])
    return (
        f"you need a larger context window: {mine} tokens against "
        f"{_against(findings, index, window)}"
    )


def _output_price_reason(findings: Findings, index: int) -> str:
    values = _row_values(findings, CHEAPEST_OUTPUT)

    def price(model: ModelFacts) -> str:
        return values[findings.models.index(model)].removesuffix("/1M tokens")

    mine = price(findings.models[index])
    return (
        f"output price matters: {mine} per 1M output tokens on its cheapest route, against "
        f"{_against(findings, index, price)}"
    )


def _provider_reason(findings: Findings, index: int) -> str:
    model = findings.models[index]
    providers = provider_names(model.active_routes)
    return (
        f"you want broader provider coverage: {count_text(len(providers), 'provider')} with an "
        f"active route ({join_words(providers)}), against "
        f"{_against(findings, index, lambda other: str(len(other.active_provider_slugs)))}"
    )


def _licence_reason(findings: Findings, index: int) -> str:
    def licence(model: ModelFacts) -> str:
        weights = " with open weights" if model.open_weights else ""
        return licence_text(model) + weights

    mine = licence(findings.models[index])
    return f"you need a clear licence: {mine}, against {_against(findings, index, licence)}"


_LEAD_REASONS: dict[str, Callable[[Findings, int], str]] = {
    DECISION_FIT: _decision_fit_reason,
    CONTEXT_WINDOW: _context_reason,
    CHEAPEST_OUTPUT: _output_price_reason,
    PROVIDER_ROUTES: _provider_reason,
    LICENCE_CLARITY: _licence_reason,
}
"""Capability coverage is explained by the per-capability reasons instead."""


def _capability_reasons(findings: Findings, index: int) -> list[str]:
    """A reason for each capability that this model alone states as true."""
    model, others = findings.models[index], _others(findings, index)
    reasons = []
    for capability, label in CAPABILITY_LABELS.items():
        if model.capability(capability) is True and all(
            other.capability(capability) is not True for other in others
        ):
            states = join_words(
                f"{other.name}'s is {flag_text(other, capability)}" for other in others
            )
            reasons.append(f"you need {label.lower()}: its {label} flag is true, while {states}")
    return reasons


def _cost_reason(findings: Findings, index: int) -> list[str]:
    model = findings.models[index]
    mine = findings.estimates[index]
    if findings.cheapest_estimate != model.slug or mine.usd is None or mine.route is None:
        return []

    def monthly(other: ModelFacts) -> str:
        amount = findings.estimates[findings.models.index(other)].usd
        return usd(amount) if amount is not None else "no estimate"

    return [
        f"the monthly bill matters: about {usd(mine.usd)} a month at this traffic via "
        f"{mine.route.provider_name}, against {_against(findings, index, monthly)}"
    ]


def tradeoff_reasons(findings: Findings, index: int) -> list[str]:
    """The 'choose this model when' reasons, each naming its numbers."""
    model = findings.models[index]
    reasons = [
        _LEAD_REASONS[signal](findings, index)
        for signal in findings.leads(model.slug)
        if signal in _LEAD_REASONS
    ]
    reasons += _capability_reasons(findings, index)
    reasons += _cost_reason(findings, index)
    return reasons or ["a need outside these facts decides: it leads on none of the signals here"]


# --- switch friction ----------------------------------------------------------------------


def _provider_note(origin: ModelFacts, target: ModelFacts, shared: Sequence[str]) -> str:
    if shared:
        names = provider_names(r for r in origin.active_routes if r.provider_slug in shared)
        stay = "that provider" if len(names) == 1 else "those providers"
        return f"Both are served by {join_words(names)}, so the switch can stay with {stay}."
    if not target.active_routes:
        return (
            f"No tracked provider serves both, and {target.name} has no active route tracked: "
            "it needs a provider found elsewhere or self-hosting."
        )
    return (
        f"No tracked provider serves both: moving to {target.name} means a new provider "
        f"({join_words(provider_names(target.active_routes), 'or')})."
    )


def _capability_notes(origin: ModelFacts, target: ModelFacts) -> list[str]:
    gained, to_check = [], []
    for capability, label in CAPABILITY_LABELS.items():
        before, after = origin.capability(capability), target.capability(capability)
        if after is True and before is not True:
            gained.append(f"{label} ({flag_text(origin, capability)} for {origin.name})")
        if before is True and after is not True:
            to_check.append(f"{label} ({flag_text(target, capability)} for {target.name})")
    notes = []
    if gained:
        notes.append(f"Capabilities gained with {target.name}: {join_words(gained)}.")
    if to_check:
        notes.append(f"To be checked before moving traffic: {join_words(to_check)}.")
    return notes


def _context_note(origin: ModelFacts, target: ModelFacts) -> str:
    before, after = origin.context_window, target.context_window
    if before is None or after is None:
        unstated = [model.name for model in (origin, target) if model.context_window is None]
        return f"The context change cannot be stated: no context window is given for {join_words(unstated)}."
    if after < before:
        return (
            f"Context lost: {tokens_text(after)} tokens instead of {tokens_text(before)}, so "
            f"prompts over {tokens_text(after)} tokens will not fit."
        )
    if after > before:
        return f"Context gained: {tokens_text(after)} tokens instead of {tokens_text(before)}."
    return f"The context window stays at {tokens_text(after)} tokens."


def _price_note(findings: Findings, source: int, target: int) -> str:
    before, after = findings.estimates[source].usd, findings.estimates[target].usd
    if before is None or after is None:
        missing = [
            findings.models[index].name
            for index, amount in ((source, before), (target, after))
            if amount is None
        ]
        verb = "has" if len(missing) == 1 else "have"
        return (
            f"The price change cannot be stated: {join_words(missing)} {verb} no monthly estimate."
        )
    change = after - before
    if round_cents(change) == 0:
        effect = "about the same"
    else:
        effect = ("saves " if change < 0 else "adds ") + usd(abs(change)) + " a month"
    return f"Monthly estimate at this traffic: {usd(before)} to {usd(after)} ({effect})."


def friction_notes(
    findings: Findings, source: int, target: int, shared: Sequence[str]
) -> list[str]:
    """What moving traffic from one model to another involves."""
    origin, destination = findings.models[source], findings.models[target]
    return [
        _provider_note(origin, destination, shared),
        *_capability_notes(origin, destination),
        _context_note(origin, destination),
        _price_note(findings, source, target),
    ]


# --- deep dive ----------------------------------------------------------------------------


def _profile(model: ModelFacts) -> str:
    """Who made it, its size and shape, licence, modalities and routes; then what the
    data leaves unstated."""
    stated: dict[str, str | None] = {
        "creator": f"made by {model.creator_name}" if model.creator_name else None,
        "release date": f"released on {model.released_on.isoformat()}"
        if model.released_on
        else None,
        "parameter count": f"{format_decimal(model.parameters_billions)}B parameters"
        if model.parameters_billions is not None
        else None,
        "context window": f"a {tokens_text(model.context_window)}-token context window"
        if model.context_window is not None
        else None,
        "maximum output": f"up to {tokens_text(model.max_output_tokens)} output tokens"
        if model.max_output_tokens is not None
        else None,
    }
    origin = [stated[key] or "" for key in ("creator", "release date") if stated[key]]
    shape = [stated[key] or "" for key in list(stated)[2:] if stated[key]]
    sentences = [f"{model.name} is {join_words(origin)}."] if origin else []
    if shape:
        sentences.append(f"{'It' if origin else model.name} has {join_words(shape)}.")
    if model.architecture:
        sentences.append(f"Architecture: {model.architecture}.")
    sentences.append(_licence_answer(model))
    if model.input_modalities and model.output_modalities:
        sentences.append(
            f"It takes {join_words(model.input_modalities)} input and produces "
            f"{join_words(model.output_modalities)}."
        )
    sentences.append(_routes_sentence(model))
    unstated = [key for key, value in stated.items() if value is None]
    unstated += ["architecture"] if not model.architecture else []
    if not (model.input_modalities and model.output_modalities):
        unstated.append("input and output modalities")
    if unstated:
        sentences.append(f"The data does not state its {join_words(unstated)}.")
    return " ".join(sentences)


def _routes_sentence(model: ModelFacts) -> str:
    providers = provider_names(model.active_routes)
    if not providers:
        return f"No active provider route to {model.name} is tracked."
    sentence = f"{count_text(len(providers), 'provider')} serves it ({join_words(providers)})"
    if len(providers) != 1:
        sentence = sentence.replace(" serves ", " serve ")
    prices = [
        route.price.output_per_mtok
        for route in model.active_routes
        if route.price is not None and route.price.output_per_mtok is not None
    ]
    if prices:
        sentence += f"; its cheapest output price is {price_text(min(prices))} per 1M tokens"
    return sentence + "."


def _traffic_text(findings: Findings) -> str:
    traffic = findings.traffic
    text = (
        f"At {tokens_text(traffic.input_tokens_per_month)} input and "
        f"{tokens_text(traffic.output_tokens_per_month)} output tokens a month"
    )
    if traffic.cached_input_share:
        text += f", {format_decimal(traffic.cached_input_share * 100)}% of the input cached"
    if traffic.average_input_tokens_per_request is not None:
        text += (
            f", {tokens_text(traffic.average_input_tokens_per_request)} input tokens per request"
        )
    return text


def _costs_paragraph(findings: Findings) -> str:
    sentences = [f"{_traffic_text(findings)}:"]
    for model, item in zip(findings.models, findings.estimates, strict=True):
        if item.usd is None or item.route is None:
            sentences.append(f"{model.name} has no estimate. {no_estimate_reason(model)}")
        else:
            sentences.append(
                f"{model.name} costs about {usd(item.usd)} a month via "
                f"{item.route.provider_name} ({item.route.provider_model_id})."
            )
    amounts = [item.usd for item in findings.estimates if item.usd is not None]
    if len(amounts) == len(findings.estimates):
        sentences.append(
            f"The most and least expensive differ by {usd(max(amounts) - min(amounts))} a month."
        )
    return " ".join(sentences)


def _capabilities_paragraph(findings: Findings) -> str:
    sentences = []
    for model in findings.models:
        parts = []
        for state, word in ((True, "true"), (False, "false"), (None, "not stated")):
            labels = [
                label
                for name, label in CAPABILITY_LABELS.items()
                if model.capability(name) is state
            ]
            if labels:
                parts.append(f"{word} for {join_words(labels)}")
        sentences.append(f"Capability flags of {model.name}: {'; '.join(parts)}.")
    return " ".join(sentences)


def _benchmarks_paragraph(findings: Findings) -> str:
    if not findings.shared_benchmarks:
        own = join_words(f"{model.name} {len(model.benchmarks)}" for model in findings.models)
        return (
            "No benchmark is scored for every model here, so there is no like-for-like "
            f"benchmark comparison. Benchmarks scored per model: {own}."
        )
    sentences = []
    for row in findings.shared_benchmarks:
        scores = join_words(
            f"{model.name} {score:g}"
            for model, score in zip(findings.models, row.scores, strict=True)
        )
        best = max(row.scores) if row.higher_is_better else min(row.scores)
        ahead = [m.name for m, s in zip(findings.models, row.scores, strict=True) if s == best]
        direction = "higher" if row.higher_is_better else "lower"
        verdict_text = f"{ahead[0]} is ahead" if len(ahead) == 1 else "a tie at the top"
        sentences.append(f"{row.name} ({direction} is better): {scores}; {verdict_text}.")
    return " ".join(sentences)


def deep_dive(findings: Findings) -> list[str]:
    """One paragraph per model, then costs, capabilities and benchmarks."""
    return [
        *(_profile(model) for model in findings.models),
        _costs_paragraph(findings),
        _capabilities_paragraph(findings),
        _benchmarks_paragraph(findings),
    ]


# --- FAQ ----------------------------------------------------------------------------------


def _context_answer(findings: Findings) -> str:
    def window(model: ModelFacts) -> str:
        if model.context_window is None:
            return f"{model.name}: not stated"
        return f"{model.name}: {tokens_text(model.context_window)} tokens ({context_label(model.context_window)})"

    listing = "; ".join(window(model) for model in findings.models) + "."
    leader = findings.leaders[CONTEXT_WINDOW]
    if leader is not None:
        name = next(model.name for model in findings.models if model.slug == leader)
        larger = "larger" if len(findings.models) == 2 else "largest"
        return f"{name} has the {larger} window. {listing}"
    if any(model.context_window is None for model in findings.models):
        return f"It cannot be said for every model, as not all state a context window. {listing}"
    return f"No single model has the largest window. {listing}"


def _licence_answer(model: ModelFacts) -> str:
    """The licence, said to be unknown when it is, and whether the weights are open."""
    if model.license is None:
        licence = "the licence is unknown (the data does not state one)"
    else:
        licence = f"licensed under {model.license}"
    weights = {
        True: "open weights",
        False: "weights not open",
        None: "whether the weights are open is not stated",
    }[model.open_weights]
    return f"{model.name}: {licence}; {weights}."


def _vision_answer(model: ModelFacts) -> str:
    state = model.capability("VISION")
    images = "image" in model.input_modalities
    if state is True:
        tail = " and it lists image input" if images else ""
        return f"{model.name}: yes, its Vision flag is true{tail}."
    opening = "its Vision flag is false" if state is False else "the data does not say"
    if images:
        return f"{model.name}: {opening}, although image is among its listed inputs; check before relying on it."
    return f"{model.name}: {opening}."


def _multimodal_answer(model: ModelFacts) -> str:
    if model.input_modalities:
        inputs = f"takes {join_words(model.input_modalities)} input"
    else:
        inputs = "does not state its input modalities"
    return f"{model.name} {inputs}; its Multimodal flag is {flag_text(model, 'MULTIMODAL')}."


def _where_answer(model: ModelFacts) -> str:
    routes = [
        f"{route.provider_name} (as {route.provider_model_id}"
        + (f", region {route.region})" if route.region else ")")
        for route in sorted(
            model.active_routes, key=lambda r: (r.provider_slug, r.provider_model_id)
        )
    ]
    answer = f"{model.name}: " + (
        f"through {join_words(routes)}" if routes else "no active provider route is tracked"
    )
    inactive = len(model.routes) - len(model.active_routes)
    if inactive:
        answer += f" ({count_text(inactive, 'inactive route')} not counted)"
    if model.open_weights:
        answer += (
            f"; its weights are open, so self-hosting under {licence_text(model)} is an option"
        )
    return answer + "."


def _pick_answer(findings: Findings) -> str:
    picks = [
        f"pick {model.name} when {tradeoff_reasons(findings, index)[0]}"
        for index, model in enumerate(findings.models)
    ]
    return f"{verdict(findings)} In short: {'; '.join(picks)}."


def faq(findings: Findings) -> list[tuple[str, str]]:
    """Exactly six (question, answer) pairs: context, licence, vision, multimodal input,
    where to run, when to pick which."""
    models = findings.models
    names = [model.name for model in models]
    both = join_words(names)
    if len(models) == 2:
        context_question = f"Which has the larger context window, {join_words(names, 'or')}?"
    else:
        context_question = f"Which of {both} has the largest context window?"
    return [
        (context_question, _context_answer(findings)),
        (
            f"What licences do {both} use, and are their weights open?",
            " ".join(_licence_answer(model) for model in models),
        ),
        (f"Do {both} support vision?", " ".join(_vision_answer(model) for model in models)),
        (
            f"Do {both} accept multimodal input?",
            " ".join(_multimodal_answer(model) for model in models),
        ),
        (f"Where can I run {both}?", " ".join(_where_answer(model) for model in models)),
        (f"When should I pick {join_words(names, 'or')}?", _pick_answer(findings)),
    ]
