"""The reference comparison: GLM-4V 9B against Qwen3.5-4B at the default traffic.

The first fixture reproduces the public comparison page exactly as that page states its
inputs, including its 131,072-token context for GLM-4V 9B and its Vision flag set false.
The second reads the real curated catalog, which corrects that context to 8,192 tokens, to
show the corrected facts flow through. Expected values are written out by hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from schema.catalog.spec import CuratedCatalog, ModelSpec, read_curated
from schema.domain.comparison import (
    BenchmarkFacts,
    Comparison,
    ModelFacts,
    PriceFacts,
    RouteFacts,
    resolve_comparison,
)
from schema.domain.costs import DEFAULT_TRAFFIC
from tests.conftest import PROJECT_ROOT
from tests.domain import NOW, price

GLM_AS_ON_PAGE = ModelFacts(
    id=1,
    slug="glm-4v-9b",
    name="GLM-4V 9B",
    creator_name="THUDM",
    released_on=date(2024, 6, 5),
    context_window=131_072,
    parameters_billions=Decimal(9),
    architecture="Decoder-only",
    license=None,
    input_modalities=("text", "image"),
    output_modalities=("text",),
    capabilities={"VISION": False, "MULTIMODAL": True},
    routes=(
        RouteFacts(
            offering_id=101,
            provider_slug="replicate",
            provider_name="Replicate API",
            provider_model_id="cuuupid/glm-4v-9b",
            price=price("0.05", "0.25"),
        ),
    ),
)

QWEN_AS_ON_PAGE = ModelFacts(
    id=2,
    slug="qwen3.5-4b",
    name="Qwen3.5-4B",
    creator_name="Alibaba",
    released_on=date(2026, 3, 2),
    context_window=262_144,
    parameters_billions=Decimal(4),
    license="Apache-2.0",
    input_modalities=("text", "image", "video"),
    output_modalities=("text",),
    capabilities={"VISION": True, "MULTIMODAL": True},
)


@pytest.fixture(scope="module")
def page() -> Comparison:
    return resolve_comparison([GLM_AS_ON_PAGE, QWEN_AS_ON_PAGE], DEFAULT_TRAFFIC, now=NOW)


def statements(comparison: Comparison) -> list[str]:
    """Every generated sentence that states something (the FAQ's questions left out)."""
    texts = [comparison.verdict, *comparison.deep_dive]
    texts += [reason for tradeoff in comparison.tradeoffs for reason in tradeoff.reasons]
    texts += [note for friction in comparison.switch_friction for note in friction.notes]
    texts += [cost.reason for cost in comparison.monthly_costs if cost.reason]
    texts += [entry.answer for entry in comparison.faq]
    return [sentence for text in texts for sentence in text.split(". ")]


def test_identity_order_and_traffic(page: Comparison) -> None:
    assert page.key == "glm-4v-9b-vs-qwen3.5-4b"
    assert page.models == ("glm-4v-9b", "qwen3.5-4b")
    assert page.traffic.input_tokens_per_month == Decimal(560_000_000)
    assert page.traffic.output_tokens_per_month == Decimal(300_000_000)
    assert page.generated_at == NOW


def test_recommends_qwen_and_glm_when_provider_fit_matters(page: Comparison) -> None:
    assert page.recommended == "qwen3.5-4b"
    assert page.verdict.startswith("Qwen3.5-4B is the safer overall pick")
    assert "Choose GLM-4V 9B when provider fit matters." in page.verdict


def test_scorecard(page: Comparison) -> None:
    assert [(row.signal, row.values, row.leader) for row in page.scorecard] == [
        ("Decision fit", ("Long context and Vision", "Long context and Vision"), None),
        ("Context window", ("131K", "262K"), "qwen3.5-4b"),
        ("Cheapest output", ("$0.25/1M tokens", "-"), None),
        ("Provider routes", ("1 tracked", "0 tracked"), "glm-4v-9b"),
        ("Shared benchmarks", ("0 rows", "0 rows"), None),
    ]


def test_tradeoffs_cite_each_models_strengths(page: Comparison) -> None:
    glm, qwen = page.tradeoffs
    assert (glm.model, qwen.model) == ("glm-4v-9b", "qwen3.5-4b")
    assert glm.reasons == (
        "you want broader provider coverage: 1 provider with an active route "
        "(Replicate API), against 0 for Qwen3.5-4B",
    )
    assert "you need a larger context window: 262,144 tokens against 131,072 for GLM-4V 9B" in (
        qwen.reasons
    )
    assert "you need vision: its Vision flag is true, while GLM-4V 9B's is false" in qwen.reasons


def test_monthly_costs(page: Comparison) -> None:
    glm, qwen = page.monthly_costs
    # 560M x $0.05/1M + 300M x $0.25/1M = 28 + 75
    assert (glm.model, glm.available, glm.offering_id, glm.reason) == ("glm-4v-9b", True, 101, None)
    assert glm.monthly_usd is not None and str(glm.monthly_usd) == "103.00"
    assert (qwen.model, qwen.available, qwen.monthly_usd, qwen.offering_id) == (
        "qwen3.5-4b",
        False,
        None,
        None,
    )
    assert qwen.reason == (
        "No provider route to Qwen3.5-4B is tracked, so there is no price to estimate from."
    )
    assert page.cost_delta is None


def test_switch_friction_both_ways(page: Comparison) -> None:
    to_qwen, to_glm = page.switch_friction
    assert (to_qwen.from_model, to_qwen.to_model) == ("glm-4v-9b", "qwen3.5-4b")
    assert (to_glm.from_model, to_glm.to_model) == ("qwen3.5-4b", "glm-4v-9b")
    assert to_qwen.shared_providers == () and to_glm.shared_providers == ()
    assert "Capabilities gained with Qwen3.5-4B: Vision (false for GLM-4V 9B)." in to_qwen.notes
    assert not any("To be checked" in note for note in to_qwen.notes)
    assert "To be checked before moving traffic: Vision (false for GLM-4V 9B)." in to_glm.notes
    assert not any("gained with" in note for note in to_glm.notes)
    assert (
        "Context lost: 131,072 tokens instead of 262,144, so prompts over 131,072 tokens will "
        "not fit." in to_glm.notes
    )
    assert to_qwen.notes[0] == (
        "No tracked provider serves both, and Qwen3.5-4B has no active route tracked: "
        "it needs a provider found elsewhere or self-hosting."
    )
    assert to_glm.notes[0] == (
        "No tracked provider serves both: moving to GLM-4V 9B means a new provider (Replicate API)."
    )


def test_capability_matrix_says_null_where_the_data_is_silent(page: Comparison) -> None:
    assert [(row.capability, row.label, row.values) for row in page.capability_matrix] == [
        ("VISION", "Vision", (False, True)),
        ("MULTIMODAL", "Multimodal", (True, True)),
        ("REASONING", "Reasoning", (None, None)),
        ("FUNCTION_CALLING", "Function calling", (None, None)),
        ("TOOL_USE", "Tool use", (None, None)),
        ("STRUCTURED_OUTPUTS", "Structured outputs", (None, None)),
        ("CODE_EXECUTION", "Code execution", (None, None)),
    ]
    assert page.shared_benchmarks == ()


def test_faq_has_the_six_questions_with_real_numbers(page: Comparison) -> None:
    questions = [entry.question for entry in page.faq]
    assert questions == [
        "Which has the larger context window, GLM-4V 9B or Qwen3.5-4B?",
        "What licences do GLM-4V 9B and Qwen3.5-4B use, and are their weights open?",
        "Do GLM-4V 9B and Qwen3.5-4B support vision?",
        "Do GLM-4V 9B and Qwen3.5-4B accept multimodal input?",
        "Where can I run GLM-4V 9B and Qwen3.5-4B?",
        "When should I pick GLM-4V 9B or Qwen3.5-4B?",
    ]
    context, licence, vision, multimodal, where, _pick = (entry.answer for entry in page.faq)
    assert context.startswith("Qwen3.5-4B has the larger window.")
    assert "262,144" in context and "131,072" in context
    assert "GLM-4V 9B: the licence is unknown" in licence
    assert "Qwen3.5-4B: licensed under Apache-2.0" in licence
    assert (
        "GLM-4V 9B: its Vision flag is false, although image is among its listed inputs" in vision
    )
    assert "Qwen3.5-4B takes text, image and video input" in multimodal
    assert "through Replicate API (as cuuupid/glm-4v-9b)" in where
    assert "Qwen3.5-4B: no active provider route is tracked" in where


def test_prose_names_numbers_and_never_claims_a_licence_for_glm(page: Comparison) -> None:
    assert "GLM-4V 9B costs about $103.00 a month via Replicate API" in page.deep_dive[2]
    assert "a 131,072-token context window" in page.deep_dive[0]
    assert "GLM-4V 9B: the licence is unknown (the data does not state one)" in page.deep_dive[0]
    about_glm_licence = [
        sentence
        for sentence in statements(page)
        if "GLM-4V 9B" in sentence and "licen" in sentence.lower()
    ]
    assert len(about_glm_licence) >= 3  # deep dive, FAQ and Qwen's licence reason
    assert all("unknown" in sentence for sentence in about_glm_licence)


# --- the real curated catalog ---------------------------------------------------------------


def curated_facts(catalog: CuratedCatalog, spec: ModelSpec, model_id: int) -> ModelFacts:
    """ModelFacts from the curated file, the way its importer reads the facts."""
    organizations = {org.slug: org.name for org in catalog.organizations}
    providers = {provider.slug: provider.name for provider in catalog.providers}
    benchmarks = {benchmark.slug: benchmark for benchmark in catalog.benchmarks}
    facts = spec.facts
    routes = tuple(
        RouteFacts(
            offering_id=model_id * 100 + position,
            provider_slug=offering.provider,
            provider_name=providers[offering.provider],
            provider_model_id=offering.provider_model_id,
            region=offering.region,
            price=None
            if offering.price is None
            else PriceFacts(
                offering.price.input_per_mtok,
                offering.price.output_per_mtok,
                offering.price.cached_input_per_mtok,
            ),
        )
        for position, offering in enumerate(spec.offerings)
    )
    return ModelFacts(
        id=model_id,
        slug=spec.slug,
        name=spec.name,
        creator_name=organizations[spec.creator] if spec.creator else None,
        released_on=facts.released_on,
        context_window=facts.context_window,
        max_output_tokens=facts.max_output_tokens,
        parameters_billions=facts.parameters_billions,
        architecture=facts.architecture,
        license=facts.license,
        open_weights=facts.open_weights,
        input_modalities=tuple(facts.input_modalities or ()),
        output_modalities=tuple(facts.output_modalities or ()),
        capabilities=dict.fromkeys(facts.capabilities or (), True),
        routes=routes,
        benchmarks={
            slug: BenchmarkFacts(
                slug, benchmarks[slug].name, benchmarks[slug].higher_is_better, float(score)
            )
            for slug, score in spec.benchmarks.items()
        },
    )


@pytest.fixture(scope="module")
def curated() -> Comparison:
    catalog = read_curated(PROJECT_ROOT / "schema" / "catalog" / "curated.yaml")
    specs = {spec.slug: spec for spec in catalog.models}
    models = [
        curated_facts(catalog, specs["glm-4v-9b"], 1),
        curated_facts(catalog, specs["qwen3.5-4b"], 2),
    ]
    return resolve_comparison(models, DEFAULT_TRAFFIC, now=NOW)


def test_curated_facts_correct_the_page(curated: Comparison) -> None:
    rows = {row.signal: (row.values, row.leader) for row in curated.scorecard}
    assert rows["Context window"] == (("8K", "262K"), "qwen3.5-4b")
    assert rows["Decision fit"] == (("Vision", "Long context and Vision"), "qwen3.5-4b")
    assert rows["Cheapest output"] == (("$0.25/1M tokens", "-"), None)
    assert rows["Provider routes"] == (("1 tracked", "0 tracked"), "glm-4v-9b")
    assert curated.capability_matrix[0].values == (True, True)
    assert str(curated.monthly_costs[0].monthly_usd) == "103.00"
    assert curated.recommended == "qwen3.5-4b"
    assert "Choose GLM-4V-9B when provider fit matters." in curated.verdict


def test_curated_licence_and_context_reach_the_prose(curated: Comparison) -> None:
    licence_answer = curated.faq[1].answer
    assert "GLM-4V-9B: licensed under GLM-4 Model License; open weights." in licence_answer
    assert "8,192" in curated.faq[0].answer and "262,144" in curated.faq[0].answer
    assert not any("To be checked" in n for f in curated.switch_friction for n in f.notes)
    assert any("GLM-4V-9B 9" in text for text in curated.deep_dive)  # its nine benchmark scores
