"""Adapters on small real excerpts: every expected value was read off the raw files
(tests/fixtures/feeds/README.md says where each excerpt comes from)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from feed_helpers import by_route, encode, fixture_bytes, fixture_json, parse_fixture

from schema.domain.observations import PriceObservation, PriceTierObservation
from schema.feeds.adapters import ADAPTERS
from schema.feeds.records import SnapshotError


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def price(
    inp: str | None,
    out: str | None,
    cached: str | None = None,
    *tiers: PriceTierObservation,
    start: datetime | None = None,
    end: datetime | None = None,
) -> PriceObservation:
    return PriceObservation(
        input_per_mtok=None if inp is None else Decimal(inp),
        output_per_mtok=None if out is None else Decimal(out),
        cached_input_per_mtok=None if cached is None else Decimal(cached),
        tiers=tiers,
        effective_from=start,
        effective_to=end,
    )


def tier(start: int, inp: str, out: str, cached: str | None = None) -> PriceTierObservation:
    return PriceTierObservation(
        start, Decimal(inp), Decimal(out), None if cached is None else Decimal(cached)
    )


ALL_TEXT = frozenset(
    {"VISION", "MULTIMODAL", "REASONING", "FUNCTION_CALLING", "TOOL_USE", "STRUCTURED_OUTPUTS"}
)

# --- OpenRouter ---------------------------------------------------------------------------------


def test_openrouter_model_is_normalized() -> None:
    snapshot = parse_fixture("openrouter", "models.json")
    record = by_route(snapshot)["openrouter", "anthropic/claude-opus-4.7-fast"]
    assert record.name == "Anthropic: Claude Opus 4.7 (Fast)"
    assert record.creator == "anthropic"
    assert record.identity_hints == ("anthropic/claude-4.7-opus-fast-20260512",)
    assert (record.context_window, record.max_output_tokens) == (1_000_000, 128_000)
    assert record.input_modalities == ("text", "image", "file")
    assert record.capabilities == ALL_TEXT
    assert record.released_on == date(2026, 5, 12)  # created 1778613011
    assert record.knowledge_cutoff is None
    # "0.00003" / "0.00015" / "0.000003" USD per token
    assert record.price == price("30", "150", "3")
    assert record.url == "https://openrouter.ai/anthropic/claude-opus-4.7-fast"


def test_openrouter_hints_knowledge_and_capabilities_from_parameters() -> None:
    record = by_route(parse_fixture("openrouter", "models.json"))[
        "openrouter", "qwen/qwen3-vl-235b-a22b-instruct"
    ]
    # canonical_slug equals the id, so only hugging_face_id is another name
    assert record.identity_hints == ("Qwen/Qwen3-VL-235B-A22B-Instruct",)
    assert record.knowledge_cutoff == date(2025, 3, 31)
    assert record.max_output_tokens == 16384
    assert record.capabilities == ALL_TEXT - {"REASONING"}  # no "reasoning" parameter
    assert record.price == price("0.2", "0.88", "0.11")


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("openrouter/auto", None),  # "-1": no published price
        ("openrouter/free", price("0", "0")),  # "0": a real, zero price
        ("poolside/laguna-xs.2:free", price("0", "0")),
    ],
)
def test_openrouter_router_prices(model_id: str, expected: PriceObservation | None) -> None:
    snapshot = parse_fixture("openrouter", "models.json")
    assert by_route(snapshot)["openrouter", model_id].price == expected
    assert snapshot.invalid == []
    assert len(snapshot.records) == 5


# --- LiteLLM ------------------------------------------------------------------------------------

LITELLM_JULY_1 = "2026-07-01_f32e5ff0.json"
LITELLM_JULY_3 = "2026-07-03_f6ae3781.json"


@pytest.mark.parametrize(
    ("name", "published", "expected"),
    [
        # 3e-06 / 1.5e-05 / 3e-07 USD per token, then the 2026-07-03 cut to 2e-06 / 1e-05 / 2e-07
        (LITELLM_JULY_1, datetime(2026, 7, 1, 1, 56, 47, 101857, UTC), price("3", "15", "0.3")),
        (LITELLM_JULY_3, datetime(2026, 7, 3, 20, 19, 29, 403486, UTC), price("2", "10", "0.2")),
    ],
)
@pytest.mark.parametrize(
    ("provider", "key"),
    [("bedrock_converse", "anthropic.claude-sonnet-5"), ("azure_ai", "azure_ai/claude-sonnet-5")],
)
def test_litellm_price_change_pair(
    name: str, published: datetime, expected: PriceObservation, provider: str, key: str
) -> None:
    snapshot = parse_fixture("litellm", name)
    assert snapshot.published_at == published
    record = by_route(snapshot)[provider, key]
    assert record.price == expected
    assert (record.context_window, record.max_output_tokens) == (1_000_000, 128_000)
    assert record.capabilities == ALL_TEXT - {"MULTIMODAL"}


def test_litellm_scope_skips_other_modes_without_counting_them_invalid() -> None:
    snapshot = parse_fixture("litellm", LITELLM_JULY_3)
    # skipped: sample_spec and last_updated (meta), text-embedding-3-small (embedding),
    # fireworks-ai-4.1b-to-16b (no mode), bedrock/*/1-month-commitment/... (per second)
    assert sorted(by_route(snapshot)) == [
        ("azure_ai", "azure_ai/claude-sonnet-5"),
        ("bedrock", "amazon.titan-text-express-v1"),
        ("bedrock_converse", "anthropic.claude-sonnet-5"),
        ("dashscope", "dashscope/qwen3-coder-plus"),
        ("vertex_ai-language-models", "gemini-2.5-pro"),
    ]
    assert snapshot.invalid == []


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # *_above_200k_tokens keys
        (
            "gemini-2.5-pro",
            price("1.25", "10", "0.125", tier(200_000, "2.5", "15", "0.25")),
        ),
        # tiered_pricing ranges; [0, 32000] is the base
        (
            "dashscope/qwen3-coder-plus",
            price(
                "1",
                "5",
                "0.1",
                tier(32_000, "1.8", "9", "0.18"),
                tier(128_000, "3", "15", "0.3"),
                tier(256_000, "6", "60", "0.6"),
            ),
        ),
    ],
)
def test_litellm_long_context_tiers(key: str, expected: PriceObservation) -> None:
    records = {
        record.provider_model_id: record
        for record in parse_fixture("litellm", LITELLM_JULY_1).records
    }
    assert records[key].price == expected


def test_litellm_capabilities_unknown_without_supports_keys() -> None:
    records = by_route(parse_fixture("litellm", LITELLM_JULY_1))
    assert records["bedrock", "amazon.titan-text-express-v1"].capabilities is None
    gemini = records["vertex_ai-language-models", "gemini-2.5-pro"]
    assert gemini.capabilities == ALL_TEXT
    assert gemini.input_modalities == ("text", "image", "audio", "video")


@pytest.mark.parametrize(
    ("suffix", "threshold"),
    [("200k", 200_000), ("128000", 128_000), ("1m", 1_000_000), ("1.5m", 1_500_000)],
)
def test_litellm_tier_threshold_suffixes(suffix: str, threshold: int) -> None:
    document = fixture_json("litellm", LITELLM_JULY_1)
    document["amazon.titan-text-express-v1"][f"input_cost_per_token_above_{suffix}_tokens"] = (
        Decimal("4e-06")
    )
    (record,) = [
        record
        for record in ADAPTERS["litellm"](encode(document)).records
        if record.provider_model_id == "amazon.titan-text-express-v1"
    ]
    assert record.price is not None
    assert record.price.tiers == (PriceTierObservation(threshold, input_per_mtok=Decimal(4)),)


# --- models.dev (derived api.json) --------------------------------------------------------------


def test_modelsdev_provider_model() -> None:
    record = by_route(parse_fixture("models.dev", "api.json"))["siliconflow-cn", "Qwen/Qwen3.5-4B"]
    assert record.provider_name == "SiliconFlow (China)"
    assert record.creator == "Qwen"
    assert record.identity_hints == ()
    assert (record.context_window, record.max_output_tokens) == (262_144, 65_536)
    assert record.input_modalities == ("text", "image", "video")
    assert record.capabilities == ALL_TEXT - {"STRUCTURED_OUTPUTS"}  # the file does not say
    assert record.released_on == date(2026, 3, 3)
    assert record.knowledge_cutoff == date(2025, 4, 1)  # "2025-04"
    assert record.open_weights is True
    assert record.license is None
    assert record.price == price("0", "0")
    assert record.url == "https://cloud.siliconflow.com/models"


@pytest.mark.parametrize(
    ("provider", "model_id", "hint", "creator", "expected"),
    [
        # base_model alibaba/qwen3.7-plus; its own [[cost.tiers]] at 128_000
        (
            "alibaba-cn",
            "qwen3.7-plus",
            "alibaba/qwen3.7-plus",
            "alibaba",
            price("0.5", "3", "0.05", tier(128_000, "2", "6", "0.2")),
        ),
        # name and structured_output inherited from models/alibaba/qwen3.6-35b-a3b.toml
        (
            "siliconflow",
            "Qwen/Qwen3.6-35B-A3B",
            "alibaba/qwen3.6-35b-a3b",
            "alibaba",
            price("0.20", "1.60"),
        ),
    ],
)
def test_modelsdev_base_model(
    provider: str, model_id: str, hint: str, creator: str, expected: PriceObservation
) -> None:
    record = by_route(parse_fixture("models.dev", "api.json"))[provider, model_id]
    assert record.identity_hints == (hint,)
    assert record.creator == creator
    assert record.price == expected


def test_modelsdev_inherited_fields() -> None:
    record = by_route(parse_fixture("models.dev", "api.json"))[
        "siliconflow", "Qwen/Qwen3.6-35B-A3B"
    ]
    assert record.name == "Qwen3.6 35B-A3B"
    assert record.capabilities == {"STRUCTURED_OUTPUTS", "FUNCTION_CALLING", "TOOL_USE"}
    assert record.open_weights is False  # the provider file overrides the base's true


@pytest.mark.parametrize(
    ("cost", "tiers"),
    [
        # the older shape, read as a 200,000-token tier (edited into the real record)
        (
            {"input": 1, "output": 2, "context_over_200k": {"input": 3, "output": 4}},
            (tier(200_000, "3", "4"),),
        ),
        # a tier of another type than context is not a long-context price
        (
            {
                "input": 1,
                "output": 2,
                "tiers": [{"tier": {"type": "batch", "size": 5}, "input": 9}],
            },
            (),
        ),
    ],
)
def test_modelsdev_tier_shapes(
    cost: dict[str, Any], tiers: tuple[PriceTierObservation, ...]
) -> None:
    document = fixture_json("models.dev", "api.json")
    document["siliconflow-cn"]["models"]["Qwen/Qwen3.5-4B"]["cost"] = cost
    record = by_route(ADAPTERS["models.dev"](encode(document)))["siliconflow-cn", "Qwen/Qwen3.5-4B"]
    assert record.price == price("1", "2", None, *tiers)


# --- genai-prices -------------------------------------------------------------------------------


def test_genai_prices_tiered_price() -> None:
    record = by_route(parse_fixture("genai-prices", "data.json"))["anthropic", "claude-sonnet-4-5"]
    assert record.provider_name == "Anthropic"
    assert record.context_window == 1_000_000
    assert record.price == price("3", "15", "0.3", tier(200_000, "6", "22.5", "0.6"))
    assert record.price_history == ()
    assert record.identity_hints == ()  # starts_with clauses are patterns, not names


@pytest.mark.parametrize(
    ("as_of", "current", "history"),
    [
        (
            utc(2026, 8, 21),
            price("2", "10", "0.2", end=utc(2026, 9, 1)),
            (price("3", "15", "0.3", start=utc(2026, 9, 1)),),
        ),
        (
            utc(2026, 9, 1),
            price("3", "15", "0.3", start=utc(2026, 9, 1)),
            (price("2", "10", "0.2", end=utc(2026, 9, 1)),),
        ),
    ],
)
@pytest.mark.parametrize(
    ("provider", "model_id"),
    [("anthropic", "claude-sonnet-5"), ("aws", "global.anthropic.claude-sonnet-5-v1:0")],
)
def test_genai_prices_dated_prices(
    as_of: datetime,
    current: PriceObservation,
    history: tuple[PriceObservation, ...],
    provider: str,
    model_id: str,
) -> None:
    record = by_route(parse_fixture("genai-prices", "data.json", as_of=as_of))[provider, model_id]
    assert record.price == current
    assert record.price_history == history


def test_genai_prices_past_change_and_exact_name_hints() -> None:
    record = by_route(parse_fixture("genai-prices", "data.json"))["openai", "o3"]
    assert record.price == price("2", "8", "0.5", start=utc(2025, 6, 10))
    assert record.price_history == (price("10", "40", "0.5", end=utc(2025, 6, 10)),)
    assert record.identity_hints == ("o3-2025-04-16",)


def test_genai_prices_time_of_day_window_takes_the_standard_price() -> None:
    record = by_route(parse_fixture("genai-prices", "data.json"))["deepseek", "deepseek-chat"]
    # 00:30-16:30 UTC (16 h) is 0.27 / 1.1 / 0.07; the other 8 h the unconstrained 0.135 discount
    assert record.price == price("0.27", "1.1", "0.07")
    assert record.price_history == ()
    assert record.identity_hints == ("deepseek-chat-v3-0324",)


def test_genai_prices_empty_prices_mean_no_price_not_free() -> None:
    snapshot = parse_fixture("genai-prices", "data.json")
    assert by_route(snapshot)["azure", "mai-ds-r1:free"].price is None
    assert snapshot.invalid == []
    assert len(snapshot.records) == 7


# --- llm-prices ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "current", "history"),
    [
        (
            utc(2026, 8, 21),
            price("2", "10", end=utc(2026, 9, 1)),
            (price("3", "15", start=utc(2026, 9, 1)),),
        ),
        (
            utc(2026, 9, 2),
            price("3", "15", start=utc(2026, 9, 1)),
            (price("2", "10", end=utc(2026, 9, 1)),),
        ),
    ],
)
def test_llm_prices_vendor_file_history(
    as_of: datetime, current: PriceObservation, history: tuple[PriceObservation, ...]
) -> None:
    snapshot = parse_fixture("llm-prices", "anthropic.json", as_of=as_of)
    record = by_route(snapshot)["anthropic", "claude-sonnet-5"]
    assert (record.name, record.creator) == ("Claude Sonnet 5", "anthropic")
    assert record.price == current
    assert record.price_history == history
    assert len(snapshot.records) == 17


def test_llm_prices_combined_vendor_files() -> None:
    raw = b'{"vendors": [' + fixture_bytes("llm-prices", "anthropic.json") + b","
    raw += fixture_bytes("llm-prices", "deepseek.json") + b"]}"
    snapshot = ADAPTERS["llm-prices"](raw, as_of=utc(2026, 8, 21))
    assert len(snapshot.records) == 17 + 4
    record = by_route(snapshot)["deepseek", "deepseek-chat"]
    assert record.price == price("0.27", "1.1", start=utc(2025, 2, 8))
    assert record.price_history == (price("0.14", "0.28", end=utc(2025, 2, 8)),)
    assert by_route(snapshot)["deepseek", "deepseek-v4-flash"].price == price(
        "0.14", "0.28", "0.028"
    )


def test_llm_prices_current_v1() -> None:
    snapshot = parse_fixture("llm-prices", "current-v1.json")
    assert snapshot.published_at == utc(2026, 8, 6)
    records = by_route(snapshot)
    assert len(records) == 5
    terra = records["openai", "gpt-5.6-terra"]
    assert (terra.name, terra.creator) == ("GPT-5.6 Terra ≤272k", "openai")
    assert terra.price == price("2", "12", "0.2")
    assert terra.price_history == ()
    assert records["moonshot-ai", "kimi-k2-thinking"].price == price("0.6", "2.5", "0.15")


# --- invalid records ----------------------------------------------------------------------------


DELETE = object()
"""``_edit`` value meaning: remove the key."""


def _edit(path: tuple[str | int, ...], value: object) -> Callable[[Any], None]:
    """An in-place edit of the parsed fixture at ``path`` (set ``value``, or delete)."""

    def edit(document: Any) -> None:
        *parents, last = path
        for key in parents:
            document = document[key]
        if value is DELETE:
            del document[last]
        else:
            document[last] = value

    return edit


@pytest.mark.parametrize(
    ("kind", "name", "edit", "record", "field", "reason"),
    [
        (
            "openrouter",
            "models.json",
            _edit(("data", 0, "pricing", "prompt"), "-0.5"),
            "anthropic/claude-opus-4.7-fast",
            "pricing.prompt",
            "negative",
        ),
        ("openrouter", "models.json", _edit(("data", 1, "id"), DELETE), "#1", "id", "missing"),
        (
            "litellm",
            LITELLM_JULY_3,
            _edit(("anthropic.claude-sonnet-5", "input_cost_per_token"), "cheap"),
            "anthropic.claude-sonnet-5",
            "input_cost_per_token",
            "not a number",
        ),
        (
            "litellm",
            LITELLM_JULY_3,
            _edit(("dashscope/qwen3-coder-plus", "tiered_pricing", 1, "output_cost_per_token"), -1),
            "dashscope/qwen3-coder-plus",
            "tiered_pricing[1].output_cost_per_token",
            "negative",
        ),
        (
            "models.dev",
            "api.json",
            _edit(("alibaba-cn", "models", "qwen3.7-plus", "cost", "input"), -1),
            "alibaba-cn:qwen3.7-plus",
            "cost.input",
            "negative",
        ),
        (
            "genai-prices",
            "data.json",
            _edit((0, "models", 0, "prices", "input_mtok", "tiers", 0, "price"), "six"),
            "anthropic:claude-sonnet-4-5",
            "prices.input_mtok.tiers[0].price",
            "not a number",
        ),
        (
            "llm-prices",
            "deepseek.json",
            _edit(("models", 2, "price_history", 1, "output"), True),
            "deepseek:deepseek-chat",
            "price_history[1].output",
            "expected a decimal number",
        ),
        (
            "llm-prices",
            "current-v1.json",
            _edit(("prices", 0, "id"), DELETE),
            "#0",
            "id",
            "missing",
        ),
    ],
)
def test_bad_record_is_reported_and_the_rest_still_parses(
    kind: str, name: str, edit: Callable[[Any], None], record: str, field: str, reason: str
) -> None:
    expected_records = len(parse_fixture(kind, name).records) - 1
    document = fixture_json(kind, name)
    edit(document)
    snapshot = ADAPTERS[kind](encode(document), as_of=utc(2026, 8, 21))
    assert [(item.record, item.field) for item in snapshot.invalid] == [(record, field)]
    assert reason in snapshot.invalid[0].reason
    assert snapshot.feed == kind
    assert len(snapshot.records) == expected_records


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_adapter_rejects_malformed_json(kind: str) -> None:
    with pytest.raises(SnapshotError, match=f"^{re.escape(kind)}: snapshot is not valid JSON"):
        ADAPTERS[kind](b'{"data": [')


@pytest.mark.parametrize(
    ("kind", "name", "key", "label"),
    [
        ("openrouter", "models.json", "data", "anthropic/claude-opus-4.7-fast"),
        ("llm-prices", "current-v1.json", "prices", "claude-sonnet-5"),
    ],
)
def test_second_record_for_the_same_route_is_invalid(
    kind: str, name: str, key: str, label: str
) -> None:
    document = fixture_json(kind, name)
    listed = document[key]
    listed.append(listed[0])
    snapshot = ADAPTERS[kind](encode(document))
    assert [(item.record, item.field) for item in snapshot.invalid] == [(label, "id")]
    assert snapshot.invalid[0].reason.startswith("duplicate")
    assert len(snapshot.records) == len(listed) - 1
