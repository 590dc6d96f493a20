"""Comparison rules: costs at traffic, scorecard leaders, the recommendation and its
tie-breaks, 3 and 4 models, order independence, and request validation.

Every expected value is worked out by hand in the test (or its comment), never by the code
under test.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from schema.domain.comparison import (
    BenchmarkFacts,
    Comparison,
    ModelFacts,
    MonthlyCost,
    RouteFacts,
    estimate,
    resolve_comparison,
)
from schema.domain.comparison_errors import ComparisonErrorCode, validate_request
from schema.domain.comparison_text import context_label
from schema.domain.costs import DEFAULT_TRAFFIC, Traffic
from schema.domain.observations import PriceTierObservation
from tests.domain import NOW, model, price, route, traffic

ONE_MILLION_EACH = traffic(1_000_000, 1_000_000)


def compare(*models: ModelFacts, at: Traffic = DEFAULT_TRAFFIC) -> Comparison:
    return resolve_comparison(models, at, now=NOW)


def cost_of(routes: tuple[RouteFacts, ...], at: Traffic) -> MonthlyCost:
    """The monthly cost of a model with these routes, compared with a route-less one."""
    return compare(model("priced", routes=routes), model("other", 2), at=at).monthly_costs[0]


def leader(comparison: Comparison, signal: str) -> str | None:
    return next(row.leader for row in comparison.scorecard if row.signal == signal)


# --- costs at traffic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("routes", "offering_id"),
    [
        pytest.param(
            (
                route(1, "beta", price("1", "2"), provider_model_id="a"),
                route(2, "alpha", price("1", "2"), provider_model_id="z"),
            ),
            2,
            id="tie-goes-to-provider-slug",
        ),
        pytest.param(
            (
                route(1, "acme", price("1", "2"), provider_model_id="m-2"),
                route(2, "acme", price("1", "2"), provider_model_id="m-1"),
            ),
            2,
            id="then-to-provider-model-id",
        ),
        pytest.param(
            (route(1, "zeta", price("0.5", "2")), route(2, "alpha", price("1", "2"))),
            1,
            id="cost-before-names",
        ),
        pytest.param(
            (
                route(1, "alpha", price("0.1", "0.1"), active=False),
                route(2, "beta", price("1", "2")),
            ),
            2,
            id="inactive-route-ignored",
        ),
        pytest.param(
            (route(1, "alpha", price("0.1", None)), route(2, "beta", price("1", "2"))),
            2,
            id="incomplete-price-ignored",
        ),
        pytest.param(
            (route(1, "alpha"), route(2, "beta", price("1", "2"))), 2, id="unpriced-route-ignored"
        ),
    ],
)
def test_the_estimate_uses_the_cheapest_active_complete_route(
    routes: tuple[RouteFacts, ...], offering_id: int
) -> None:
    chosen = estimate(model("m", routes=routes), ONE_MILLION_EACH)
    assert chosen.route is not None and chosen.route.offering_id == offering_id


TIERED = price(
    "1",
    "2",
    tiers=(
        PriceTierObservation(1_000_000, Decimal(3)),
        PriceTierObservation(200_000, Decimal(2), Decimal(4)),
    ),
)


@pytest.mark.parametrize(
    ("average_input", "expected"),
    [
        (None, "3.00"),  # base: 1M x $1 + 1M x $2
        (199_999, "3.00"),
        (200_000, "6.00"),  # first tier: 1M x $2 + 1M x $4
        (999_999, "6.00"),
        (1_000_000, "5.00"),  # second tier: input $3, output falls back to the base $2
    ],
)
def test_average_prompt_size_selects_the_tier(average_input: int | None, expected: str) -> None:
    cost = cost_of((route(7, "acme", TIERED),), traffic(1_000_000, 1_000_000, "0", average_input))
    assert str(cost.monthly_usd) == expected


CACHING = route(1, "alpha", price("1", "1", cached="0.1"))
NOT_CACHING = route(2, "beta", price("0.8", "1"))


@pytest.mark.parametrize(
    ("routes", "share", "offering_id", "expected"),
    [
        # 10M input, 1M output. alpha: fresh x $1 + cached x $0.10 + $1; beta: 10M x $0.80 + $1.
        ((CACHING, NOT_CACHING), "0", 2, "9.00"),  # alpha 11.00
        ((CACHING, NOT_CACHING), "0.4", 1, "7.40"),  # 6M x $1 + 4M x $0.10 + $1; beta 9.00
        ((CACHING, NOT_CACHING), "1", 1, "2.00"),
        ((NOT_CACHING,), "1", 2, "9.00"),  # no cached price: every input token at $0.80
    ],
)
def test_cached_share_is_billed_at_the_cached_price_only_where_the_route_has_one(
    routes: tuple[RouteFacts, ...], share: str, offering_id: int, expected: str
) -> None:
    cost = cost_of(routes, traffic(10_000_000, 1_000_000, share))
    assert (cost.offering_id, str(cost.monthly_usd)) == (offering_id, expected)


def test_costs_round_half_even_on_output_and_the_delta_is_rounded_once() -> None:
    only_input = traffic(1_000_000, 0)
    comparison = compare(
        model("a", 1, routes=(route(1, "acme", price("0.135", "0")),)),
        model("b", 2, routes=(route(2, "acme", price("0.01", "0")),)),
        model("c", 3, routes=(route(3, "acme", price("0.125", "0")),)),
        at=only_input,
    )
    assert [str(cost.monthly_usd) for cost in comparison.monthly_costs] == ["0.14", "0.01", "0.12"]
    # exact 0.135 - 0.01 = 0.125 -> 0.12; the rounded estimates would differ by 0.13
    assert str(comparison.cost_delta) == "0.12"


@pytest.mark.parametrize(
    ("routes", "reason"),
    [
        ((), "No provider route to PRICED is tracked, so there is no price to estimate from."),
        (
            (route(1, "acme", price("1", "1"), active=False),),
            "The only tracked route to PRICED is not active.",
        ),
        (
            (route(1, "acme", active=False), route(2, "bolt", active=False)),
            "None of the 2 tracked routes to PRICED is active.",
        ),
        (
            (route(1, "acme", price(None, "1")), route(2, "bolt")),
            "No active route to PRICED publishes both an input and an output price.",
        ),
    ],
)
def test_a_model_without_a_complete_price_has_no_estimate_and_says_why(
    routes: tuple[RouteFacts, ...], reason: str
) -> None:
    cost = cost_of(routes, DEFAULT_TRAFFIC)
    assert (cost.available, cost.monthly_usd, cost.offering_id, cost.reason) == (
        False,
        None,
        None,
        reason,
    )


# --- scorecard ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "label"),
    [
        (None, "-"),
        (512, "512"),
        (8_192, "8K"),
        (131_072, "131K"),
        (999_999, "999K"),
        (1_000_000, "1M"),
        (1_048_576, "1.04M"),
        (1_500_000, "1.5M"),
        (2_000_000, "2M"),
        (10_999_999, "10.99M"),
    ],
)
def test_context_window_label(tokens: int | None, label: str) -> None:
    assert context_label(tokens) == label


def _priced(output: str) -> dict[str, Any]:
    return {"routes": (route(1, "acme", price("1", output)),)}


@pytest.mark.parametrize(
    ("signal", "facts_a", "facts_b", "expected"),
    [
        ("Context window", {"context_window": 8_192}, {"context_window": 16_384}, "b"),
        ("Context window", {"context_window": 8_192}, {}, None),  # b unknown: no basis
        ("Context window", {"context_window": 8_192}, {"context_window": 8_192}, None),
        ("Cheapest output", _priced("2"), _priced("1"), "b"),
        ("Cheapest output", _priced("1"), {}, None),  # an unknown price is not a low price
        ("Cheapest output", _priced("1"), _priced("1"), None),
        ("Provider routes", _priced("1"), {}, "a"),  # 1 tracked against 0
        (
            "Provider routes",
            {"routes": (route(1, "acme"), route(2, "acme", provider_model_id="x"))},
            _priced("1"),
            None,  # two routes of one provider count once
        ),
        (
            "Decision fit",
            {"context_window": 200_000, "input_modalities": ("text", "image")},
            {"context_window": 8_192, "input_modalities": ("text", "image")},
            "a",
        ),
        (
            "Decision fit",
            {"context_window": 200_000, "input_modalities": ("text", "image")},
            {"input_modalities": ("text", "image")},
            None,  # b's context window unknown: its tags are unknown, not fewer
        ),
        (
            "Decision fit",
            {"context_window": 8_192, "input_modalities": ("text", "image")},
            {"context_window": 4_096, "input_modalities": ("text", "image")},
            None,  # 'Vision' each
        ),
        ("Shared benchmarks", {}, {}, None),
    ],
)
def test_scorecard_leaders(
    signal: str, facts_a: dict[str, Any], facts_b: dict[str, Any], expected: str | None
) -> None:
    comparison = compare(model("a", 1, **facts_a), model("b", 2, **facts_b))
    assert leader(comparison, signal) == expected


# --- three and four models ------------------------------------------------------------------


def _scores(**scores: float) -> dict[str, BenchmarkFacts]:
    return {slug: BenchmarkFacts(slug, slug.upper(), True, score) for slug, score in scores.items()}


ALPHA = model(
    "alpha",
    1,
    context_window=1_048_576,
    input_modalities=("text", "image"),
    output_modalities=("text",),
    capabilities={"VISION": True, "MULTIMODAL": True, "REASONING": True},
    license="MIT",
    open_weights=True,
    released_on=date(2025, 1, 1),
    routes=(route(1, "acme", price("1", "4")), route(2, "bolt", price("0.9", "5"))),
    benchmarks=_scores(mmlu=80.0, gsm8k=90.0),
    last_reviewed_on=date(2026, 11, 1),
)
BETA = model(
    "beta",
    2,
    context_window=200_000,
    input_modalities=("text",),
    output_modalities=("text",),
    capabilities={"REASONING": True, "TOOL_USE": False},
    license="Proprietary",
    open_weights=False,
    routes=(route(3, "acme", price("0.5", "2")),),
    benchmarks=_scores(mmlu=75.0, gsm8k=95.0, hellaswag=70.0),
    last_reviewed_on=date(2026, 11, 20),
)
GAMMA = model(
    "gamma",
    3,
    context_window=32_000,
    input_modalities=("text", "image"),
    output_modalities=("text",),
    capabilities={"VISION": True},
    routes=(route(4, "cloud", price("2", "8")),),
    benchmarks=_scores(mmlu=60.0, hellaswag=80.0),
)


@pytest.fixture(scope="module")
def three() -> Comparison:
    return compare(ALPHA, BETA, GAMMA)


def test_three_models_scorecard_and_recommendation(three: Comparison) -> None:
    assert three.key == "alpha-vs-beta-vs-gamma"
    assert [(row.signal, row.values, row.leader) for row in three.scorecard] == [
        ("Decision fit", ("Long context and Vision", "Long context", "Vision"), "alpha"),
        ("Context window", ("1.04M", "200K", "32K"), "alpha"),
        ("Cheapest output", ("$4/1M tokens", "$2/1M tokens", "$8/1M tokens"), "beta"),
        ("Provider routes", ("2 tracked", "1 tracked", "1 tracked"), "alpha"),
        ("Shared benchmarks", ("1 row", "1 row", "1 row"), None),
    ]
    assert three.recommended == "alpha"
    assert three.verdict == (
        "ALPHA is the safer overall pick: it leads on 3 of the 5 scorecard signals (decision "
        "fit, context window and provider routes) and on licence clarity and capability "
        "coverage. Choose BETA when "
        "output price matters. GAMMA leads on none of these signals."
    )
    assert three.last_reviewed_on == date(2026, 11, 20)


def test_three_models_costs_and_benchmarks(three: Comparison) -> None:
    # alpha via acme: 560 x $1 + 300 x $4 = 1,760 (bolt: 504 + 1,500 = 2,004)
    # beta: 560 x $0.5 + 300 x $2 = 880; gamma: 560 x $2 + 300 x $8 = 3,520
    assert [(c.model, c.offering_id, str(c.monthly_usd)) for c in three.monthly_costs] == [
        ("alpha", 1, "1760.00"),
        ("beta", 3, "880.00"),
        ("gamma", 4, "3520.00"),
    ]
    assert str(three.cost_delta) == "2640.00"
    assert [(row.slug, row.scores) for row in three.shared_benchmarks] == [
        ("mmlu", (80.0, 75.0, 60.0))
    ]
    beta_reasons = three.tradeoffs[1].reasons
    assert beta_reasons == (
        "output price matters: $2 per 1M output tokens on its cheapest route, against $4 for "
        "ALPHA and $8 for GAMMA",
        "the monthly bill matters: about $880.00 a month at this traffic via Acme, against "
        "$1,760.00 for ALPHA and $3,520.00 for GAMMA",
    )


def test_three_models_switch_friction(three: Comparison) -> None:
    pairs = [(f.from_model, f.to_model, f.shared_providers) for f in three.switch_friction]
    assert pairs == [
        ("alpha", "beta", ("acme",)),
        ("alpha", "gamma", ()),
        ("beta", "alpha", ("acme",)),
        ("beta", "gamma", ()),
        ("gamma", "alpha", ()),
        ("gamma", "beta", ()),
    ]
    alpha_to_beta = three.switch_friction[0].notes
    assert alpha_to_beta == (
        "Both are served by Acme, so the switch can stay with that provider.",
        "To be checked before moving traffic: Vision (not stated for BETA) and Multimodal "
        "(not stated for BETA).",
        "Context lost: 200,000 tokens instead of 1,048,576, so prompts over 200,000 tokens "
        "will not fit.",
        "Monthly estimate at this traffic: $1,760.00 to $880.00 (saves $880.00 a month).",
    )
    beta_to_alpha = three.switch_friction[2].notes
    assert (
        "Capabilities gained with ALPHA: Vision (not stated for BETA) and Multimodal (not stated for BETA)."
        in beta_to_alpha
    )
    assert "Context gained: 1,048,576 tokens instead of 200,000." in beta_to_alpha
    assert "Monthly estimate at this traffic: $880.00 to $1,760.00 (adds $880.00 a month)." in (
        beta_to_alpha
    )


def test_three_models_capability_matrix_and_faq(three: Comparison) -> None:
    matrix = {row.capability: row.values for row in three.capability_matrix}
    assert matrix == {
        "VISION": (True, None, True),
        "MULTIMODAL": (True, None, None),
        "REASONING": (True, True, None),
        "FUNCTION_CALLING": (None, None, None),
        "TOOL_USE": (None, False, None),
        "STRUCTURED_OUTPUTS": (None, None, None),
        "CODE_EXECUTION": (None, None, None),
    }
    assert len(three.faq) == 6
    assert three.faq[0].question == "Which of ALPHA, BETA and GAMMA has the largest context window?"
    assert three.faq[0].answer.startswith("ALPHA has the largest window.")
    assert "MMLU (higher is better): ALPHA 80, BETA 75 and GAMMA 60; ALPHA is ahead." in (
        three.deep_dive
    )


DELTA = model(
    "delta",
    4,
    context_window=1_048_576,
    input_modalities=("text", "image"),
    capabilities={"VISION": True, "MULTIMODAL": True, "REASONING": True},
    license="MIT",
    open_weights=True,
    routes=(route(5, "acme", price("1", "4")), route(6, "bolt", price("0.9", "5"))),
)


def test_four_models() -> None:
    # DELTA ties ALPHA on decision fit, context, provider routes, licence and capabilities,
    # so neither leads those; BETA's cheapest output ($2) is then the only lead there is.
    comparison = compare(DELTA, GAMMA, ALPHA, BETA)
    assert comparison.key == "alpha-vs-beta-vs-delta-vs-gamma"
    assert comparison.models == ("delta", "gamma", "alpha", "beta")
    assert [(row.signal, row.leader) for row in comparison.scorecard] == [
        ("Decision fit", None),
        ("Context window", None),
        ("Cheapest output", "beta"),
        ("Provider routes", None),
        ("Shared benchmarks", None),
    ]
    assert comparison.scorecard[1].values == ("1.04M", "32K", "1.04M", "200K")
    assert comparison.recommended == "beta"
    assert comparison.verdict == (
        "BETA is the safer overall pick: it leads on 1 of the 5 scorecard signals (cheapest "
        "output). "
        "DELTA leads on none of these signals. GAMMA leads on none of these signals. "
        "ALPHA leads on none of these signals."
    )
    assert len(comparison.switch_friction) == 12
    assert comparison.switch_friction[0].shared_providers == ()  # delta -> gamma
    assert comparison.switch_friction[1].shared_providers == ("acme", "bolt")  # delta -> alpha
    assert len(comparison.faq) == 6
    assert comparison.cost_delta == Decimal("2640.00")  # gamma 3,520 - beta 880


def _tie(slug: str, model_id: int, **facts: Any) -> ModelFacts:
    """Models that tie on every signal unless a test gives them different facts."""
    facts.setdefault("context_window", 100_000)
    facts.setdefault("input_modalities", ("text",))
    return model(slug, model_id, **facts)


@pytest.mark.parametrize(
    ("a", "b", "recommended", "decided_by"),
    [
        pytest.param(
            _tie("a", 1, routes=(route(1, "acme", price("1", "2")),)),
            _tie("b", 2, routes=(route(2, "bolt", price("2", "2")),)),
            "a",
            "the lower monthly cost at this traffic",
            id="monthly-cost",
        ),
        pytest.param(
            _tie("a", 1, license="MIT", context_window=8_192),
            _tie("b", 2, context_window=16_384),
            "b",  # a leads licence, b context window: 1 each; no costs; b's window is larger
            "the larger context window",
            id="context-window-after-unknown-cost",
        ),
        pytest.param(
            _tie("a", 1, license="MIT", released_on=date(2025, 1, 1)),
            _tie("b", 2, capabilities={"REASONING": True}, released_on=date(2025, 6, 1)),
            "b",
            "the later release date",
            id="release-date",
        ),
    ],
)
def test_tie_breaks(a: ModelFacts, b: ModelFacts, recommended: str, decided_by: str) -> None:
    for order in ((a, b), (b, a)):
        comparison = compare(*order)
        assert comparison.recommended == recommended
        assert f"wins the tie-break on {decided_by}" in comparison.verdict


def test_no_recommendation_when_the_tie_breaks_tie_too() -> None:
    comparison = compare(_tie("a", 1), _tie("b", 2))
    assert comparison.recommended is None
    assert comparison.verdict == (
        "No model is the safer overall pick: A and B each lead on 0 signals, and the "
        "tie-breaks (monthly cost, context window, release date) do not separate them. "
        "A leads on none of these signals. B leads on none of these signals."
    )


# --- order independence ---------------------------------------------------------------------


@pytest.mark.parametrize("order", list(itertools.permutations((ALPHA, BETA, GAMMA))))
def test_the_same_models_in_another_order_give_the_same_result(
    three: Comparison, order: tuple[ModelFacts, ...]
) -> None:
    permuted = compare(*order)
    slugs = [m.slug for m in order]
    position = {slug: three.models.index(slug) for slug in slugs}

    def reorder(values: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(values[position[slug]] for slug in slugs)

    assert (permuted.key, permuted.recommended, permuted.models) == (
        three.key,
        three.recommended,
        tuple(slugs),
    )
    assert [(r.values, r.leader) for r in permuted.scorecard] == [
        (reorder(r.values), r.leader) for r in three.scorecard
    ]
    assert permuted.monthly_costs == reorder(three.monthly_costs)

    def reasons_given(comparison: Comparison) -> tuple[tuple[str, ...], ...]:
        """What each reason is about; its details list the other models in the order asked."""
        return tuple(tuple(r.split(":")[0] for r in t.reasons) for t in comparison.tradeoffs)

    assert reasons_given(permuted) == reorder(reasons_given(three))
    assert [r.values for r in permuted.capability_matrix] == [
        reorder(r.values) for r in three.capability_matrix
    ]
    assert {(f.from_model, f.to_model): f for f in permuted.switch_friction} == {
        (f.from_model, f.to_model): f for f in three.switch_friction
    }
    assert permuted.cost_delta == three.cost_delta


# --- programming errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "models",
    [(ALPHA,), (ALPHA, BETA, GAMMA, DELTA, model("e", 5)), (ALPHA, ALPHA)],
    ids=["one", "five", "duplicate"],
)
def test_resolve_refuses_what_validation_would_have_caught(models: tuple[ModelFacts, ...]) -> None:
    with pytest.raises(ValueError, match="a comparison takes"):
        compare(*models)


def test_resolve_refuses_a_naive_clock() -> None:
    with pytest.raises(ValueError, match="timezone"):
        resolve_comparison([ALPHA, BETA], DEFAULT_TRAFFIC, now=NOW.replace(tzinfo=None))


# --- request validation ---------------------------------------------------------------------

KNOWN = {"glm-4v-9b": 1, "GLM-4V-9B": 1, "glm": 1, "qwen3.5-4b": 2, "a": 3, "b": 4, "c": 5}
SLUGS = {1: "glm-4v-9b", 2: "qwen3.5-4b", 3: "a", 4: "b", 5: "c"}


def _resolved(names: list[str]) -> dict[str, int | None]:
    return {name: KNOWN.get(name) for name in names}


@pytest.mark.parametrize(
    ("names", "at", "code", "message", "unknown"),
    [
        (
            ["foo"],
            traffic(-1, 0),
            "TOO_FEW_MODELS",
            "A comparison needs at least 2 models, got 1.",
            (),
        ),
        (
            ["a", "b", "c", "glm", "x"],
            DEFAULT_TRAFFIC,
            "TOO_MANY_MODELS",
            "A comparison takes at most 4 models, got 5.",
            (),
        ),
        (
            ["glm-4v-9b", "GLM-4V-9B", "nope"],
            traffic(-1, 0),
            "DUPLICATE_MODEL",
            "'glm-4v-9b' and 'GLM-4V-9B' name the same model glm-4v-9b.",
            (),
        ),
        (
            ["glm", "glm-4v-9b", "a", "a"],
            DEFAULT_TRAFFIC,
            "DUPLICATE_MODEL",
            "'glm' and 'glm-4v-9b' name the same model glm-4v-9b; 'a' is asked more than once "
            "(model a).",
            (),
        ),
        (
            ["foo", "qwen3.5-4b", "Bar"],
            traffic(-1, 0),
            "UNKNOWN_MODEL",
            "No model matches 'foo' or 'Bar'.",
            ("foo", "Bar"),
        ),
        (
            ["glm", "qwen3.5-4b"],
            traffic(-5, 2 * 10**15),
            "INVALID_TRAFFIC",
            "inputTokensPerMonth must not be negative, got -5; outputTokensPerMonth must be at "
            "most 10^15 tokens, got 2000000000000000.",
            (),
        ),
        (
            ["glm", "qwen3.5-4b"],
            traffic(1, 1, "1.5", 0),
            "INVALID_TRAFFIC",
            "cachedInputShare must be between 0 and 1, got 1.5; averageInputTokensPerRequest "
            "must be at least 1, got 0.",
            (),
        ),
        (
            ["glm", "qwen3.5-4b"],
            Traffic(Decimal("NaN"), Decimal(0), Decimal("-0.1")),
            "INVALID_TRAFFIC",
            "inputTokensPerMonth must be a finite number, got NaN; cachedInputShare must be "
            "between 0 and 1, got -0.1.",
            (),
        ),
    ],
)
def test_validation_order_and_messages(
    names: list[str], at: Traffic, code: str, message: str, unknown: tuple[str, ...]
) -> None:
    problem = validate_request(names, _resolved(names), at, slug_by_id=SLUGS)
    assert problem is not None
    assert (problem.code, problem.message, problem.unknown_slugs) == (
        ComparisonErrorCode(code),
        message,
        unknown,
    )


@pytest.mark.parametrize(
    "at", [DEFAULT_TRAFFIC, traffic(0, 0, "0", 1), traffic(10**15, 10**15, "1", 2_000_000)]
)
def test_a_valid_request_has_no_problem(at: Traffic) -> None:
    names = ["glm-4v-9b", "qwen3.5-4b", "a", "b"]
    assert validate_request(names, _resolved(names), at) is None
