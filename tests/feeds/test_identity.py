"""Identity: every feed's names for one provider, region and model end up as one, by the
rules of docs/data.md ("Identity"); names that match nothing create nothing unless the
feed is authoritative for models."""

from __future__ import annotations

import pytest
from apply_helpers import NOW, add_models, price, record, snapshot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.feeds.records import FeedRecord
from schema.ingest.apply import apply_snapshot
from schema.ingest.identity import load_identity
from schema.models import LlmModel, ModelAlias, Offering, Provider, UnmatchedName

ONE_DOLLAR = price("1", "1")


@pytest.mark.parametrize(
    ("feed", "provider", "model_id", "route"),
    [
        # One provider under each feed's id for it.
        ("litellm", "bedrock", "anthropic.claude-sonnet-5-v1:0", ("amazon-bedrock", "", "anthropic.claude-sonnet-5-v1:0")),
        ("litellm", "bedrock_converse", "anthropic.claude-sonnet-5", ("amazon-bedrock", "", "anthropic.claude-sonnet-5")),
        ("models.dev", "amazon-bedrock", "anthropic.claude-sonnet-5", ("amazon-bedrock", "", "anthropic.claude-sonnet-5")),
        ("genai-prices", "aws", "anthropic.claude-sonnet-5-v1:0", ("amazon-bedrock", "", "anthropic.claude-sonnet-5-v1:0")),
        # Regional sites: one provider, a region.
        ("models.dev", "siliconflow-cn", "Qwen/Qwen3.5-4B", ("siliconflow", "cn", "Qwen/Qwen3.5-4B")),
        ("models.dev", "siliconflow", "Qwen/Qwen3.5-4B", ("siliconflow", "", "Qwen/Qwen3.5-4B")),
        ("models.dev", "alibaba-cn", "qwen3.7-plus", ("alibaba", "cn", "qwen3.7-plus")),
        ("genai-prices", "zhipuai", "glm-4.6", ("zai", "cn", "glm-4.6")),
        # Bedrock's cross-region ids and paths name the region.
        ("litellm", "bedrock_converse", "eu.anthropic.claude-sonnet-5", ("amazon-bedrock", "eu", "anthropic.claude-sonnet-5")),
        ("litellm", "bedrock_converse", "us.anthropic.claude-sonnet-5", ("amazon-bedrock", "us", "anthropic.claude-sonnet-5")),
        ("genai-prices", "aws", "global.anthropic.claude-sonnet-5-v1:0", ("amazon-bedrock", "global", "anthropic.claude-sonnet-5-v1:0")),
        ("litellm", "bedrock", "bedrock/sa-east-1/meta.llama3-70b-instruct-v1:0", ("amazon-bedrock", "sa-east-1", "meta.llama3-70b-instruct-v1:0")),
        ("litellm", "azure", "azure/eu/gpt-5-mini", ("azure", "eu", "gpt-5-mini")),
        # A route sold through a router is the router's.
        ("genai-prices", "huggingface_novita", "Qwen/Qwen3.5-27B", ("huggingface", "", "Qwen/Qwen3.5-27B")),
        ("genai-prices", "huggingface_together", "Qwen/Qwen3.5-27B", ("huggingface", "", "Qwen/Qwen3.5-27B")),
        # LiteLLM's routing prefixes are not part of the provider's model id.
        ("litellm", "azure_ai", "azure_ai/claude-sonnet-5", ("azure", "", "claude-sonnet-5")),
        ("litellm", "vertex_ai-anthropic_models", "vertex_ai/claude-sonnet-5@20250929", ("google-vertex", "", "claude-sonnet-5@20250929")),
        ("litellm", "openrouter", "openrouter/qwen/qwen3.5-27b", ("openrouter", "", "qwen/qwen3.5-27b")),
        ("litellm", "dashscope", "dashscope/qwen3-coder-plus", ("alibaba", "", "qwen3-coder-plus")),
        ("litellm", "bedrock_mantle", "bedrock_mantle/xai.grok-4.3", ("amazon-bedrock", "", "xai.grok-4.3")),
        # Other feeds' ids are the provider's own, slashes and all.
        ("openrouter", "openrouter", "qwen/qwen3.5-27b", ("openrouter", "", "qwen/qwen3.5-27b")),
        ("genai-prices", "openrouter", "openrouter/auto", ("openrouter", "", "openrouter/auto")),
        # Any other id is its own provider, in kebab-case.
        ("litellm", "some_new_cloud", "some_new_cloud/model-x", ("some-new-cloud", "", "model-x")),
    ],
)  # fmt: skip
def test_route_of_a_feed_record(
    feed: str, provider: str, model_id: str, route: tuple[str, str, str]
) -> None:
    found = load_identity().route(feed, FeedRecord(provider=provider, provider_model_id=model_id))
    assert (found.provider.slug, found.region, found.model_id) == route


@pytest.mark.parametrize(
    ("feed", "provider", "model_id", "bare"),
    [
        ("litellm", "bedrock", "anthropic.claude-sonnet-5-v1:0", "claude-sonnet-5"),
        ("litellm", "bedrock_converse", "eu.anthropic.claude-sonnet-5", "claude-sonnet-5"),
        ("litellm", "vertex_ai-anthropic_models", "vertex_ai/claude-sonnet-5@20250929", "claude-sonnet-5"),
        ("openrouter", "openrouter", "qwen/qwen3.5-27b:free", "qwen3.5-27b"),
        ("models.dev", "siliconflow-cn", "Qwen/Qwen3.5-4B", "Qwen3.5-4B"),
        # A dated id keeps its date: it is not the undated model unless a feed ties them.
        ("litellm", "anthropic", "claude-haiku-4-5-20251001", "claude-haiku-4-5-20251001"),
    ],
)  # fmt: skip
def test_bare_name_drops_only_decorations(
    feed: str, provider: str, model_id: str, bare: str
) -> None:
    found = load_identity().route(feed, FeedRecord(provider=provider, provider_model_id=model_id))
    assert found.bare == bare


def _routes(session: Session) -> set[tuple[str, str, str, str]]:
    statement = (
        select(LlmModel.slug, Provider.slug, Offering.region, Offering.provider_model_id)
        .join(LlmModel, LlmModel.id == Offering.model_id)
        .join(Provider, Provider.id == Offering.provider_id)
    )
    return {
        (model, provider, region, model_id)
        for model, provider, region, model_id in session.execute(statement)
    }


def _apply_in_turn(session: Session, records_by_feed: dict[str, list[FeedRecord]]) -> None:
    """One snapshot of each feed, in the order given."""
    for feed, records in records_by_feed.items():
        apply_snapshot(session, snapshot(feed, *records), source=feed, now=NOW)


BEDROCK_BY_FEED = {
    "litellm": [
        record("bedrock", "anthropic.claude-sonnet-5-v1:0", ONE_DOLLAR),
        record("bedrock_converse", "eu.anthropic.claude-sonnet-5", ONE_DOLLAR),
        record("bedrock_converse", "bedrock/converse/us.anthropic.claude-sonnet-5", ONE_DOLLAR),
    ],
    "models.dev": [record("amazon-bedrock", "global.anthropic.claude-sonnet-5", ONE_DOLLAR)],
    "genai-prices": [record("aws", "global.anthropic.claude-sonnet-5-v1:0", ONE_DOLLAR)],
}


def test_every_feeds_bedrock_is_one_provider_with_regions(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        add_models(session, "claude-sonnet-5")
        _apply_in_turn(session, BEDROCK_BY_FEED)
        assert list(session.scalars(select(Provider.slug))) == ["amazon-bedrock"]
        assert {route[:3] for route in _routes(session)} == {
            ("claude-sonnet-5", "amazon-bedrock", region) for region in ("", "eu", "us", "global")
        }
        assert list(session.scalars(select(LlmModel.slug))) == ["claude-sonnet-5"]


def test_regional_sites_and_routers_are_one_provider(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        _apply_in_turn(
            session,
            {
                "models.dev": [
                    record("siliconflow", "Qwen/Qwen3.5-27B", ONE_DOLLAR),
                    record("siliconflow-cn", "Qwen/Qwen3.5-27B", ONE_DOLLAR),
                    record("alibaba", "qwen3.5-27b", ONE_DOLLAR),
                    record("alibaba-cn", "qwen3.5-27b", ONE_DOLLAR),
                ],
                "genai-prices": [
                    record("huggingface_novita", "Qwen/Qwen3.5-27B", price("0.3", "2.4")),
                    record("huggingface_together", "Qwen/Qwen3.5-27B", price("0.2", "2")),
                ],
            },
        )
        assert _routes(session) == {
            ("qwen3.5-27b", "siliconflow", "", "Qwen/Qwen3.5-27B"),
            ("qwen3.5-27b", "siliconflow", "cn", "Qwen/Qwen3.5-27B"),
            ("qwen3.5-27b", "alibaba", "", "qwen3.5-27b"),
            ("qwen3.5-27b", "alibaba", "cn", "qwen3.5-27b"),
            # Two sub-providers of one router: one route, the cheaper record's.
            ("qwen3.5-27b", "huggingface", "", "Qwen/Qwen3.5-27B"),
        }
        assert set(session.scalars(select(Provider.slug))) == {
            "siliconflow",
            "alibaba",
            "huggingface",
        }


def test_names_of_one_model_across_feeds_match_and_near_names_do_not(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        _apply_in_turn(
            session,
            {
                "openrouter": [
                    record(
                        "openrouter",
                        "qwen/qwen3.5-27b",
                        ONE_DOLLAR,
                        identity_hints=("Qwen/Qwen3.5-27B",),
                    ),
                    record("openrouter", "z-ai/glm-4.6", ONE_DOLLAR),
                    record("openrouter", "z-ai/glm-4.6v", ONE_DOLLAR),
                    record("openrouter", "qwen/qwen3.5-9b", ONE_DOLLAR),
                    record("openrouter", "qwen/qwen3.5-4b", ONE_DOLLAR),
                ],
                "litellm": [
                    record("openrouter", "openrouter/qwen/qwen3.5-27b", ONE_DOLLAR),
                    record("together_ai", "together_ai/Qwen/Qwen3.5-27B", ONE_DOLLAR),
                    record("zai", "zai/glm-4.6v", ONE_DOLLAR),
                    record("novita", "novita/qwen/qwen3.5-9b", ONE_DOLLAR),
                ],
            },
        )
        assert sorted(session.scalars(select(LlmModel.slug))) == [
            "glm-4.6",
            "glm-4.6v",
            "qwen3.5-27b",
            "qwen3.5-4b",
            "qwen3.5-9b",
        ]
        assert {(model, provider) for model, provider, _, _ in _routes(session)} == {
            ("qwen3.5-27b", "openrouter"),
            ("qwen3.5-27b", "together"),
            ("glm-4.6", "openrouter"),
            ("glm-4.6v", "openrouter"),
            ("glm-4.6v", "zai"),
            ("qwen3.5-9b", "openrouter"),
            ("qwen3.5-9b", "novita"),
            ("qwen3.5-4b", "openrouter"),
        }


PSEUDO_AND_UNKNOWN = [
    record("openrouter", "openrouter/auto"),
    record("openrouter", "openrouter/free", price("0", "0")),
    record("openrouter", "mystery-lab/mystery-model-7b", ONE_DOLLAR),
]


@pytest.mark.parametrize(
    ("feed", "creates"),
    [
        ("openrouter", True),
        ("models.dev", True),
        ("litellm", False),
        ("genai-prices", False),
        ("llm-prices", False),
    ],
)
def test_only_model_authorities_create_models_and_routers_are_not_models(
    sessions: sessionmaker[Session], feed: str, creates: bool
) -> None:
    with sessions() as session:
        report = apply_snapshot(session, snapshot(feed, *PSEUDO_AND_UNKNOWN), source=feed, now=NOW)
        models = list(session.scalars(select(LlmModel.slug)))
        unmatched = set(
            session.execute(
                select(UnmatchedName.name, UnmatchedName.source, UnmatchedName.provider_slug)
            )
        )
        aliases = set(session.scalars(select(ModelAlias.name)))
        offerings = _routes(session)
    # router pseudo-models are neither models nor names for ops to map
    if creates:
        assert models == ["mystery-model-7b"]
        assert offerings == {("mystery-model-7b", "openrouter", "", "mystery-lab/mystery-model-7b")}
        assert aliases == {"mystery-lab/mystery-model-7b"}
        assert unmatched == set()
    else:
        assert (models, offerings, aliases) == ([], set(), set())
        assert ("mystery-lab/mystery-model-7b", feed, "openrouter") in unmatched
    assert report.unmatched == len(unmatched)


def test_unmatched_name_is_forgotten_once_the_feed_drops_it(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        add_models(session, "known-model")
        first = snapshot("litellm", record("openai", "gone-model", ONE_DOLLAR))
        apply_snapshot(session, first, source="litellm", now=NOW)
        second = snapshot("litellm", record("openai", "known-model", ONE_DOLLAR))
        apply_snapshot(session, second, source="litellm", now=NOW)
        assert list(session.scalars(select(UnmatchedName.name))) == []
        assert {route[:2] for route in _routes(session)} == {("known-model", "openai")}
