"""Identity resolved over every feed's records at once (schema/ingest/resolve.py): which
names are one model, which stay apart and why, who may create a model, and who made it."""

from __future__ import annotations

from decimal import Decimal

from apply_helpers import price, record

from schema.feeds.records import FeedRecord
from schema.ingest.identity import load_identity
from schema.ingest.resolve import HELD_APART, UNMATCHED, Resolution, resolve

ONE = price("1", "5")


def _resolve(records: dict[str, list[FeedRecord]]) -> Resolution:
    return resolve(records, load_identity())


def _slug(resolution: Resolution, feed: str, provider: str, model_id: str) -> str | None:
    return resolution.slug_of.get((feed, provider, model_id))


def test_a_labs_own_listing_creates_its_model_and_a_host_never_does() -> None:
    resolution = _resolve(
        {
            "litellm": [
                record("openai", "gpt-9.1", ONE),
                record("azure", "azure/gpt-9.1", ONE),
                record("azure", "azure/gpt-9.1-nano", ONE),
                record("deepinfra", "deepinfra/acme/acme-7b", ONE),
            ],
            "genai-prices": [record("anthropic", "claude-opus-9", ONE)],
        }
    )
    assert _slug(resolution, "litellm", "openai", "gpt-9.1") == "gpt-9.1"
    assert _slug(resolution, "litellm", "azure", "azure/gpt-9.1") == "gpt-9.1"
    assert _slug(resolution, "genai-prices", "anthropic", "claude-opus-9") == "claude-opus-9"
    assert resolution.models["gpt-9.1"].creator.slug == "openai"  # type: ignore[union-attr]
    assert resolution.models["claude-opus-9"].creator.slug == "anthropic"  # type: ignore[union-attr]
    unmatched = {(n.feed, n.name) for n in resolution.notes if n.kind == UNMATCHED}
    assert unmatched == {
        ("litellm", "azure/gpt-9.1-nano"),
        ("litellm", "deepinfra/acme/acme-7b"),
    }


def test_a_lab_api_hosting_another_labs_model_does_not_create_it() -> None:
    resolution = _resolve({"litellm": [record("dashscope", "dashscope/kimi-k9", ONE)]})
    assert resolution.models == {}


def test_price_groups_never_tie_names() -> None:
    """genai-prices' match rules share a price, not an identity: o1-preview is not o1."""
    resolution = _resolve(
        {
            "genai-prices": [
                record("openai", "o1", price("15", "60"), identity_hints=("o1-preview",))
            ],
            "litellm": [record("openai", "o1-preview", price("15", "60"))],
        }
    )
    assert _slug(resolution, "genai-prices", "openai", "o1") == "o1"
    assert _slug(resolution, "litellm", "openai", "o1-preview") == "o1-preview"


def test_feed_ties_and_hugging_face_ids_join_names_across_feeds() -> None:
    resolution = _resolve(
        {
            "openrouter": [
                record(
                    "openrouter",
                    "qwen/qwen3-coder",
                    ONE,
                    identity_hints=(
                        "qwen/qwen3-coder-480b-a35b-07-25",
                        "Qwen/Qwen3-Coder-480B-A35B-Instruct",
                    ),
                )
            ],
            "litellm": [
                record("together_ai", "together_ai/Qwen/Qwen3-Coder-480B-A35B-Instruct", ONE),
                record(
                    "fireworks_ai",
                    "fireworks_ai/accounts/fireworks/models/qwen3-coder-480b-a35b-instruct",
                    ONE,
                ),
            ],
        }
    )
    slugs = {
        _slug(resolution, "openrouter", "openrouter", "qwen/qwen3-coder"),
        _slug(
            resolution, "litellm", "together_ai", "together_ai/Qwen/Qwen3-Coder-480B-A35B-Instruct"
        ),
        _slug(
            resolution,
            "litellm",
            "fireworks_ai",
            "fireworks_ai/accounts/fireworks/models/qwen3-coder-480b-a35b-instruct",
        ),
    }
    assert slugs == {"qwen3-coder"}
    assert resolution.models["qwen3-coder"].creator.slug == "alibaba"  # type: ignore[union-attr]


def test_merge_guard_keeps_apart_what_a_lab_prices_differently_side_by_side() -> None:
    """mistral-small-latest spells like mistral-small, but Mistral lists both at
    different prices: two models, and ops see why."""
    resolution = _resolve(
        {
            "litellm": [
                record("mistral", "mistral/mistral-small", price("0.1", "0.3")),
                record("mistral", "mistral/mistral-small-latest", price("0.06", "0.18")),
                record("groq", "groq/grok-9-latest", price("1", "1")),
            ],
            "llm-prices": [record("mistral", "mistral-small-latest", price("0.06", "0.18"))],
        }
    )
    assert _slug(resolution, "litellm", "mistral", "mistral/mistral-small") == "mistral-small"
    latest = _slug(resolution, "litellm", "mistral", "mistral/mistral-small-latest")
    assert latest == "mistral-small-latest"
    assert _slug(resolution, "llm-prices", "mistral", "mistral-small-latest") == latest
    [held] = [n for n in resolution.notes if n.kind == HELD_APART and n.feed == "litellm"]
    assert held.name == "mistral/mistral-small-latest"
    assert "input price 0.06 vs 0.1" in held.reason


def test_within_tolerance_a_normalised_name_joins() -> None:
    resolution = _resolve(
        {
            "litellm": [
                record("xai", "xai/grok-9", price("2", "6")),
                record("xai", "xai/grok-9-latest", price(str(Decimal("2.1")), "6")),
            ]
        }
    )
    assert _slug(resolution, "litellm", "xai", "xai/grok-9-latest") == "grok-9"


def test_undated_name_and_its_one_dated_snapshot_at_one_price_are_one_model() -> None:
    resolution = _resolve(
        {
            "models.dev": [
                record("anthropic", "claude-haiku-9", ONE),
                record("anthropic", "claude-haiku-9-20300101", ONE),
                # a moving alias and an older snapshot priced differently: two models
                record("openai", "gpt-9o", price("2.5", "10")),
                record("openai", "gpt-9o-2030-05-13", price("5", "15")),
                # two dated snapshots at the alias's price: the alias is neither
                record("openai", "gpt-8o", price("2.5", "10")),
                record("openai", "gpt-8o-2030-08-06", price("2.5", "10")),
                record("openai", "gpt-8o-2030-11-20", price("2.5", "10")),
            ],
            "litellm": [record("bedrock_converse", "anthropic.claude-haiku-9-20300101-v1:0", ONE)],
        }
    )
    haiku = _slug(resolution, "models.dev", "anthropic", "claude-haiku-9")
    assert _slug(resolution, "models.dev", "anthropic", "claude-haiku-9-20300101") == haiku
    assert (
        _slug(resolution, "litellm", "bedrock_converse", "anthropic.claude-haiku-9-20300101-v1:0")
        == haiku
    )
    assert _slug(resolution, "models.dev", "openai", "gpt-9o") != _slug(
        resolution, "models.dev", "openai", "gpt-9o-2030-05-13"
    )
    gpt8o = {
        _slug(resolution, "models.dev", "openai", model_id)
        for model_id in ("gpt-8o", "gpt-8o-2030-08-06", "gpt-8o-2030-11-20")
    }
    assert len(gpt8o) == 3


def test_curated_distinct_entry_keeps_openrouters_deepseek_chat_apart() -> None:
    resolution = _resolve(
        {
            "openrouter": [
                record(
                    "openrouter",
                    "deepseek/deepseek-chat",
                    price("0.32", "0.89"),
                    identity_hints=("deepseek/deepseek-chat-v3", "deepseek-ai/DeepSeek-V3"),
                )
            ],
            "models.dev": [record("deepseek", "deepseek-chat", price("0.14", "0.28"))],
        }
    )
    assert _slug(resolution, "models.dev", "deepseek", "deepseek-chat") == "deepseek-chat"
    assert (
        _slug(resolution, "openrouter", "openrouter", "deepseek/deepseek-chat") != "deepseek-chat"
    )
    assert any(
        n.kind == HELD_APART and n.reason.startswith("held apart from deepseek-chat: curated")
        for n in resolution.notes
    )


def test_creators_come_from_evidence_and_names_carry_no_provider_path() -> None:
    resolution = _resolve(
        {
            "models.dev": [
                record(
                    "fireworks-ai", "accounts/fireworks/models/kimi-k9p5", ONE, name="Kimi K9.5"
                ),
                record(
                    "siliconflow",
                    "siliconflow/deepseek-v9.2",
                    ONE,
                    name="siliconflow/deepseek-v9.2",
                ),
            ]
        }
    )
    kimi = resolution.models[
        _slug(resolution, "models.dev", "fireworks-ai", "accounts/fireworks/models/kimi-k9p5")
    ]  # type: ignore[index]
    assert (kimi.slug, kimi.name, kimi.creator.slug) == ("kimi-k9.5", "Kimi K9.5", "moonshotai")  # type: ignore[union-attr]
    deepseek = resolution.models["deepseek-v9.2"]
    assert "/" not in deepseek.name
    assert deepseek.creator.slug == "deepseek"  # type: ignore[union-attr]
