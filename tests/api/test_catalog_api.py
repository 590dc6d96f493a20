"""The catalog over GraphQL, in-process, on both databases."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.graphql.pagination import encode_cursor
from schema.catalog.importer import import_curated
from schema.settings import Settings
from tests.conftest import graphql

GLM_QUERY = """{ model(slug: "glm-4v-9b") { contextWindow decisionTags sources { name url }
  offerings { provider { name } price { inputPerMTok outputPerMTok complete } } } }"""


@pytest.fixture
def curated(sessions: sessionmaker[Session]) -> None:
    import_curated(sessions)


async def test_glm_4v_9b_answers_its_primary_facts(
    client: httpx.AsyncClient, curated: None
) -> None:
    body = await graphql(client, GLM_QUERY)
    model = body["data"]["model"]  # type: ignore[index]
    assert model["contextWindow"] == 8192
    assert model["decisionTags"] == ["Vision"]
    assert {
        "name": "THUDM/GLM-4 README (model list and GLM-4V-9B evaluation)",
        "url": "https://github.com/THUDM/GLM-4/blob/main/README_en.md",
    } in model["sources"]
    assert model["offerings"] == [
        {
            "provider": {"name": "Replicate"},
            "price": {"inputPerMTok": "0.05", "outputPerMTok": "0.25", "complete": True},
        }
    ]


async def test_qwen_is_long_context_and_vision(client: httpx.AsyncClient, curated: None) -> None:
    body = await graphql(
        client, '{ model(slug: "qwen3.5-4b") { decisionTags license cheapestOffering { id } } }'
    )
    assert body["data"] == {
        "model": {
            "decisionTags": ["Long context", "Vision"],
            "license": "Apache-2.0",
            "cheapestOffering": None,
        }
    }


async def test_unknown_slug_is_null(client: httpx.AsyncClient, curated: None) -> None:
    body = await graphql(
        client, '{ model(slug: "no-such-model") { slug } provider(slug: "nope") { slug } }'
    )
    assert body == {"data": {"model": None, "provider": None}}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 201", "first must be between 0 and 200, got 201"),
        ("first: -1", "first must be between 0 and 200, got -1"),
        ('after: "not-a-cursor"', "malformed cursor 'not-a-cursor'"),
    ],
)
async def test_bad_paging_arguments_say_what_is_wrong(
    client: httpx.AsyncClient, curated: None, arguments: str, message: str
) -> None:
    body = await graphql(client, f"{{ models({arguments}) {{ totalCount }} }}")
    assert body["data"] is None
    [error] = body["errors"]  # type: ignore[misc]
    assert message in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_models_page_through_with_cursors(client: httpx.AsyncClient, curated: None) -> None:
    first = await graphql(
        client,
        "{ models(first: 1) { edges { cursor node { slug } } pageInfo { hasNextPage endCursor } totalCount } }",
    )
    page = first["data"]["models"]  # type: ignore[index]
    assert page["totalCount"] == 2
    assert [edge["node"]["slug"] for edge in page["edges"]] == ["glm-4v-9b"]
    assert page["pageInfo"] == {"hasNextPage": True, "endCursor": encode_cursor(0)}
    second = await graphql(
        client,
        "query($after: String) { models(first: 5, after: $after) { edges { node { slug } } pageInfo { hasNextPage } } }",
        {"after": page["pageInfo"]["endCursor"]},
    )
    assert second["data"]["models"] == {  # type: ignore[index]
        "edges": [{"node": {"slug": "qwen3.5-4b"}}],
        "pageInfo": {"hasNextPage": False},
    }


@pytest.mark.parametrize(
    ("filter_", "order", "expected"),
    [
        ('{search: "QWEN/qwen3.5"}', "NAME", ["qwen3.5-4b"]),
        ('{search: "thudm/glm-4v-9b"}', "NAME", ["glm-4v-9b"]),
        ('{creator: "thudm"}', "NAME", ["glm-4v-9b"]),
        ('{provider: "replicate"}', "NAME", ["glm-4v-9b"]),
        ("{minContextWindow: 100000}", "NAME", ["qwen3.5-4b"]),
        (
            "{capabilities: [VISION, MULTIMODAL]}",
            "CONTEXT_WINDOW_DESC",
            ["qwen3.5-4b", "glm-4v-9b"],
        ),
        ("{capabilities: [REASONING]}", "NAME", []),
        ('{maxOutputPricePerMTok: "0.25"}', "NAME", ["glm-4v-9b"]),
        ('{maxOutputPricePerMTok: "0.2"}', "NAME", []),
        ("{}", "RELEASED_ON_DESC", ["glm-4v-9b", "qwen3.5-4b"]),
        ("{}", "CHEAPEST_OUTPUT_PRICE", ["glm-4v-9b", "qwen3.5-4b"]),
    ],
)
async def test_models_filter_and_order(
    client: httpx.AsyncClient, curated: None, filter_: str, order: str, expected: list[str]
) -> None:
    body = await graphql(
        client,
        f"{{ models(filter: {filter_}, orderBy: {order}) {{ edges {{ node {{ slug }} }} }} }}",
    )
    assert [edge["node"]["slug"] for edge in body["data"]["models"]["edges"]] == expected  # type: ignore[index]


async def test_provider_lists_its_offerings(client: httpx.AsyncClient, curated: None) -> None:
    body = await graphql(
        client,
        '{ providers { slug } provider(slug: "replicate") { name url offerings { providerModelId region status model { slug } } } }',
    )
    assert body["data"] == {
        "providers": [{"slug": "replicate"}],
        "provider": {
            "name": "Replicate",
            "url": "https://replicate.com",
            "offerings": [
                {
                    "providerModelId": "cuuupid/glm-4v-9b",
                    "region": None,
                    "status": "ACTIVE",
                    "model": {"slug": "glm-4v-9b"},
                }
            ],
        },
    }


async def test_benchmarks_price_history_and_aliases(
    client: httpx.AsyncClient, curated: None
) -> None:
    body = await graphql(
        client,
        """{ model(slug: "glm-4v-9b") { lastReviewedOn
      benchmarks { score benchmark { slug higherIsBetter } }
      priceHistory { provider { slug } price { outputPerMTok source } effectiveFrom effectiveTo }
      aliases { name source } } }""",
    )
    model = body["data"]["model"]  # type: ignore[index]
    assert {
        "score": 81.1,
        "benchmark": {"slug": "mmbench-en-test", "higherIsBetter": True},
    } in model["benchmarks"]
    assert len(model["benchmarks"]) == 9
    assert model["priceHistory"] == [
        {
            "provider": {"slug": "replicate"},
            "price": {"outputPerMTok": "0.25", "source": "curated"},
            "effectiveFrom": "2026-04-19T00:00:00+00:00",
            "effectiveTo": None,
        }
    ]
    assert {"name": "THUDM/glm-4v-9b", "source": "curated"} in model["aliases"]
    assert model["lastReviewedOn"] is not None


async def test_deep_documents_are_rejected(client: httpx.AsyncClient, curated: None) -> None:
    nested = "offerings { model { " * 7 + "slug" + " } }" * 7
    body = await graphql(client, f'{{ model(slug: "glm-4v-9b") {{ {nested} }} }}')
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]  # type: ignore[index]


async def test_many_aliases_are_rejected(client: httpx.AsyncClient, curated: None) -> None:
    aliases = " ".join(f'a{i}: model(slug: "glm-4v-9b") {{ slug }}' for i in range(31))
    body = await graphql(client, f"{{ {aliases} }}")
    assert "aliases found" in body["errors"][0]["message"]  # type: ignore[index]


async def test_graphql_over_get(client: httpx.AsyncClient, curated: None) -> None:
    response = await client.get(
        "/graphql", params={"query": '{ model(slug: "glm-4v-9b") { contextWindow } }'}
    )
    assert response.json() == {"data": {"model": {"contextWindow": 8192}}}


@pytest.mark.parametrize(
    ("origins", "asked", "allowed"),
    [
        ([], "https://app.example", None),
        (["https://app.example"], "https://app.example", "https://app.example"),
        (["https://app.example"], "https://evil.example", None),
        (["*"], "https://any.example", "*"),
    ],
)
async def test_cors_allows_only_configured_origins(
    settings: Settings, origins: list[str], asked: str, allowed: str | None
) -> None:
    from api.app import create_app

    app = create_app(settings.model_copy(update={"cors_origins": origins}))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.options(
            "/graphql", headers={"origin": asked, "access-control-request-method": "POST"}
        )
    assert response.headers.get("access-control-allow-origin") == allowed
