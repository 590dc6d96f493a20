"""Vendor notation normalisers: each rewrites its notation, and none of them normalises
away what makes two models different (size, tier, modality, base vs instruct, thinking vs
instruct, version, date)."""

from __future__ import annotations

import pytest

from schema.ingest.notation import (
    amazon_nova,
    bedrock_id,
    cerebras_llama,
    cerebras_qwen,
    claude_order,
    dashed_version,
    fireworks_llama,
    fireworks_point,
    groq_suffix,
    latest_alias,
    llama_version,
    local_name,
    mistral_open,
    normalise,
    normalise_any,
    openrouter_variant,
    pinned_version,
    together_turbo,
    vertex_id,
)


@pytest.mark.parametrize(
    ("normaliser", "name", "usual"),
    [
        (fireworks_point, "kimi-k2p5", "kimi-k2.5"),
        (fireworks_point, "deepseek-v3p2", "deepseek-v3.2"),
        (fireworks_point, "qwen3-235b-a22b", "qwen3-235b-a22b"),
        (fireworks_llama, "llama-v3.3-70b-instruct", "llama-3.3-70b-instruct"),
        (bedrock_id, "meta.llama3-3-70b-instruct-v1:0", "llama3-3-70b-instruct"),
        (bedrock_id, "amazon.nova-pro-v1:0", "nova-pro"),
        (bedrock_id, "openai.gpt-oss-120b-1:0", "gpt-oss-120b"),
        (bedrock_id, "deepseek.v3.2", "deepseek-v3.2"),
        (bedrock_id, "anthropic.claude-haiku-4-5@20251001", "claude-haiku-4-5-20251001"),
        (bedrock_id, "gpt-5.6", "gpt-5.6"),
        (pinned_version, "claude-sonnet-4-5@20250929", "claude-sonnet-4-5-20250929"),
        (pinned_version, "mistral-large@2411-001", "mistral-large-2411"),
        (pinned_version, "claude-opus-5@default", "claude-opus-5"),
        (pinned_version, "mistral-small-2503@001", "mistral-small-2503"),
        (vertex_id, "qwen3-coder-480b-a35b-instruct-maas", "qwen3-coder-480b-a35b-instruct"),
        (openrouter_variant, "qwen3.5-27b:free", "qwen3.5-27b"),
        (openrouter_variant, "claude-3.7-sonnet:thinking", "claude-3.7-sonnet"),
        (groq_suffix, "llama-3.3-70b-versatile", "llama-3.3-70b-instruct"),
        (groq_suffix, "llama-3.1-8b-instant", "llama-3.1-8b-instruct"),
        (together_turbo, "llama-3.3-70b-instruct-turbo", "llama-3.3-70b-instruct"),
        (cerebras_llama, "llama-3.3-70b", "llama-3.3-70b-instruct"),
        (cerebras_qwen, "qwen-3-32b", "qwen3-32b"),
        (cerebras_qwen, "qwen-max", "qwen-max"),
        (amazon_nova, "amazon-nova-pro", "nova-pro"),
        (amazon_nova, "nova-pro-v1", "nova-pro"),
        (llama_version, "llama3.3-70b-instruct", "llama-3.3-70b-instruct"),
        (llama_version, "meta-llama-3.1-8b", "llama-3.1-8b"),
        (claude_order, "claude-4.5-haiku", "claude-haiku-4.5"),
        (claude_order, "claude-haiku-4-5-20251001", "claude-haiku-4.5-20251001"),
        (claude_order, "claude-3-5-sonnet-20241022", "claude-sonnet-3.5-20241022"),
        (claude_order, "claude-sonnet-4-20250514", "claude-sonnet-4-20250514"),
        (claude_order, "claude-sonnet-4-0", "claude-sonnet-4"),
        (dashed_version, "deepseek-v3-1", "deepseek-v3.1"),
        (dashed_version, "gpt-5-1-codex-max", "gpt-5.1-codex-max"),
        (dashed_version, "glm-4-5", "glm-4.5"),
        (dashed_version, "gemini-2-0-flash", "gemini-2.0-flash"),
        (mistral_open, "open-mistral-7b", "mistral-7b"),
        (mistral_open, "open-mixtral-8x7b", "mixtral-8x7b"),
        (latest_alias, "grok-4.5-latest", "grok-4.5"),
    ],
)
def test_each_normaliser_rewrites_its_notation(normaliser, name: str, usual: str) -> None:  # type: ignore[no-untyped-def]
    assert normaliser(name) == usual


@pytest.mark.parametrize(
    ("provider", "name", "usual"),
    [
        ("fireworks", "kimi-k2p6", "kimi-k2.6"),
        ("amazon-bedrock", "meta.llama3-3-70b-instruct-v1:0", "llama-3.3-70b-instruct"),
        ("google-vertex", "claude-sonnet-4-5@20250929", "claude-sonnet-4.5-20250929"),
        ("openrouter", "claude-haiku-4.5", "claude-haiku-4.5"),
        ("llm-prices", "claude-4.5-haiku", "claude-haiku-4.5"),
        ("cerebras", "qwen-3-32b", "qwen3-32b"),
        ("mistral", "open-mistral-nemo", "mistral-nemo"),
    ],
)
def test_a_providers_notation_gives_the_usual_spelling(
    provider: str, name: str, usual: str
) -> None:
    assert normalise(name, provider) == usual


TRAPS = [
    # sizes
    ("qwen2.5-7b-instruct", "qwen2.5-72b-instruct"),
    ("qwen3-8b", "qwen3-32b"),
    ("llama-3.1-8b-instruct", "llama-3.1-70b-instruct"),
    # tiers
    ("gpt-5-mini", "gpt-5"),
    ("gpt-5-nano", "gpt-5-mini"),
    ("gemini-2.5-pro", "gemini-2.5-flash"),
    ("gemini-2.5-flash-lite", "gemini-2.5-flash"),
    ("glm-4.5-air", "glm-4.5"),
    ("qwen-turbo", "qwen-plus"),
    ("kimi-k2.6-turbo", "kimi-k2.6"),
    # modalities
    ("glm-4.6v", "glm-4.6"),
    ("qwen2.5-vl-72b-instruct", "qwen2.5-72b-instruct"),
    # base vs instruct
    ("qwen3-30b-a3b-base", "qwen3-30b-a3b-instruct"),
    ("llama-3.1-8b", "llama-3.1-8b-instruct"),
    # thinking vs instruct
    ("qwen3-235b-a22b-thinking-2507", "qwen3-235b-a22b-instruct-2507"),
    ("kimi-k2-thinking", "kimi-k2-instruct"),
    # versions
    ("deepseek-v3.1", "deepseek-v3.2"),
    ("claude-sonnet-4", "claude-sonnet-4.5"),
    ("gpt-4-0613", "gpt-4"),
    ("gpt-4.1", "gpt-4"),
    # dates
    ("claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022"),
    ("gpt-4o-2024-05-13", "gpt-4o"),
    ("deepseek-v3-0324", "deepseek-v3"),
]


@pytest.mark.parametrize(("first", "second"), TRAPS)
def test_normalising_never_makes_two_models_one(first: str, second: str) -> None:
    for provider in (None, "fireworks", "amazon-bedrock", "google-vertex", "openrouter", "groq"):
        assert normalise(first, provider) != normalise(second, provider)
    assert normalise_any(first) != normalise_any(second)


def test_local_name_removes_only_the_providers_decorations() -> None:
    assert local_name("qwen3.5-27b:free", "openrouter") == "qwen3.5-27b"
    assert local_name("claude-3-5-sonnet-20241022", "anthropic") == "claude-3-5-sonnet-20241022"
