"""Query.comparison over GraphQL on the real catalog, on both databases."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from schema.catalog.importer import import_curated
from tests.conftest import graphql

COMPARE = """query($models: [String!]!, $traffic: TrafficInput) {
  comparison(models: $models, traffic: $traffic) {
    __typename
    ... on Comparison { key models { slug } recommended { slug }
      scorecard { signal values leader { slug } }
      monthlyCosts { model { slug } available monthlyUsd reason offering { provider { slug } } }
      costDelta faq { question } traffic { inputTokensPerMonth outputTokensPerMonth cachedInputShare } }
    ... on ComparisonError { code message unknownSlugs }
  }
}"""


@pytest.fixture
def curated(sessions: sessionmaker[Session]) -> None:
    import_curated(sessions)


async def _compare(
    client: httpx.AsyncClient, models: list[str], traffic: dict | None = None
) -> dict:  # type: ignore[type-arg]
    body = await graphql(client, COMPARE, {"models": models, "traffic": traffic})
    assert "errors" not in body, body
    return body["data"]["comparison"]  # type: ignore[index,no-any-return]


async def test_the_real_catalog_answers_with_the_corrected_glm_facts(
    client: httpx.AsyncClient, curated: None
) -> None:
    result = await _compare(client, ["glm-4v-9b", "qwen3.5-4b"])
    assert result["key"] == "glm-4v-9b-vs-qwen3.5-4b"
    rows = {row["signal"]: row for row in result["scorecard"]}
    assert rows["Context window"]["values"] == ["8K", "262K"]
    assert rows["Decision fit"]["values"] == ["Vision", "Long context and Vision"]
    assert rows["Cheapest output"] == {
        "signal": "Cheapest output",
        "values": ["$0.25/1M tokens", "-"],
        "leader": None,
    }
    assert rows["Provider routes"]["leader"] == {"slug": "glm-4v-9b"}
    glm, qwen = result["monthlyCosts"]
    assert glm == {
        "model": {"slug": "glm-4v-9b"},
        "available": True,
        "monthlyUsd": "103.00",
        "reason": None,
        "offering": {"provider": {"slug": "replicate"}},
    }
    assert qwen["available"] is False and qwen["reason"]
    assert result["costDelta"] is None
    assert len(result["faq"]) == 6
    assert result["traffic"] == {
        "inputTokensPerMonth": 560000000.0,
        "outputTokensPerMonth": 300000000.0,
        "cachedInputShare": 0.0,
    }


async def test_another_order_gives_the_same_comparison_in_that_order(
    client: httpx.AsyncClient, curated: None
) -> None:
    forward = await _compare(client, ["glm-4v-9b", "qwen3.5-4b"])
    backward = await _compare(client, ["Qwen/Qwen3.5-4B", "glm-4v-9b"])
    assert backward["key"] == forward["key"]
    assert backward["recommended"] == forward["recommended"]
    assert backward["models"] == [{"slug": "qwen3.5-4b"}, {"slug": "glm-4v-9b"}]
    for ahead, behind in zip(forward["scorecard"], backward["scorecard"], strict=True):
        assert behind["values"] == list(reversed(ahead["values"]))
        assert behind["leader"] == ahead["leader"]


async def test_traffic_changes_the_estimate_exactly(
    client: httpx.AsyncClient, curated: None
) -> None:
    result = await _compare(
        client,
        ["glm-4v-9b", "qwen3.5-4b"],
        {"inputTokensPerMonth": 1234567, "outputTokensPerMonth": 7654321},
    )
    # 1,234,567 x 0.05 / 1M + 7,654,321 x 0.25 / 1M = 0.06172835 + 1.91358025 = 1.9753086 -> 1.98
    assert result["monthlyCosts"][0]["monthlyUsd"] == "1.98"


@pytest.mark.parametrize(
    ("models", "traffic", "code", "message", "unknown"),
    [
        (["glm-4v-9b"], None, "TOO_FEW_MODELS", "at least 2 models", []),
        (["a", "b", "c", "d", "e"], None, "TOO_MANY_MODELS", "at most 4", []),
        (["glm-4v-9b", "THUDM/glm-4v-9b"], None, "DUPLICATE_MODEL", "same model glm-4v-9b", []),
        (["glm-4v-9b", "nope", "nada"], None, "UNKNOWN_MODEL", "nope", ["nope", "nada"]),
        (
            ["glm-4v-9b", "qwen3.5-4b"],
            {"inputTokensPerMonth": 1, "outputTokensPerMonth": 1, "cachedInputShare": 1.5},
            "INVALID_TRAFFIC",
            "cachedInputShare must be between 0 and 1, got 1.5",
            [],
        ),
        (
            ["glm-4v-9b", "qwen3.5-4b"],
            {"inputTokensPerMonth": -1, "outputTokensPerMonth": 1},
            "INVALID_TRAFFIC",
            "inputTokensPerMonth",
            [],
        ),
        (
            ["glm-4v-9b", "qwen3.5-4b"],
            {"inputTokensPerMonth": 1e16, "outputTokensPerMonth": 1},
            "INVALID_TRAFFIC",
            "inputTokensPerMonth",
            [],
        ),
        (  # past Decimal's default 28 digits: once an InvalidOperation leaked as the message
            ["glm-4v-9b", "qwen3.5-4b"],
            {"inputTokensPerMonth": 1e28, "outputTokensPerMonth": 1e300},
            "INVALID_TRAFFIC",
            "inputTokensPerMonth must be at most 10^15 tokens, got 10000000000000000000000000000",
            [],
        ),
        (
            ["glm-4v-9b", "qwen3.5-4b"],
            {
                "inputTokensPerMonth": 1,
                "outputTokensPerMonth": 1,
                "averageInputTokensPerRequest": 0,
            },
            "INVALID_TRAFFIC",
            "averageInputTokensPerRequest must be at least 1, got 0",
            [],
        ),
    ],
)
async def test_bad_requests_are_comparison_errors(
    client: httpx.AsyncClient,
    curated: None,
    models: list[str],
    traffic: dict | None,  # type: ignore[type-arg]
    code: str,
    message: str,
    unknown: list[str],
) -> None:
    result = await _compare(client, models, traffic)
    assert result["__typename"] == "ComparisonError"
    assert result["code"] == code
    assert message in result["message"]
    assert result["unknownSlugs"] == unknown
