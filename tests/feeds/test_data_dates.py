"""Facts in time on the full offline catalog, imported with a clock after every bundled
data date: price history as the sources state it (docs/data.md, "Which price is shown"),
no segment starting at the import moment, a re-import a day later changing no history,
and the W&B unit errors held on first load.

The expected dates come from the sources themselves, not from the code under test: the
bundled manifest's data dates (../shared/feeds/SOURCES.md), LiteLLM's own `last_updated`,
and the start dates genai-prices and llm-prices state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import httpx
import pytest
from apply_helpers import table_contents
from catalog_copies import OfflineCatalog, imported_catalog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.feeds.parse import parse_snapshot
from schema.feeds.sources import KNOWN_FEEDS, bundled_path, bundled_stated_at, read_snapshot_file
from schema.ingest.apply import apply_snapshot
from schema.models import HeldPriceChange, LlmModel, Offering, Price, Provider
from tests.conftest import (
    graphql,
)

LOADED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
"""The import clock: after every bundled snapshot's data date."""
MODELS_DEV = "2026-07-01T16:40:28+00:00"
"""models.dev snapshot (f3fc692) commit time, as recorded in the bundle manifest."""
LITELLM = "2026-07-24T18:23:43.215560+00:00"
"""The bundled LiteLLM file's own last_updated."""
SEPTEMBER_1 = "2026-09-01T00:00:00+00:00"
"""genai-prices' and llm-prices' stated start of claude-sonnet-5's $3/$15."""
FEBRUARY_8 = "2025-02-08T00:00:00+00:00"
"""llm-prices' stated start of deepseek-chat's $0.27/$1.10."""

HISTORY = """
query ($slug: String!, $provider: String!) {
  model(slug: $slug) {
    lastReviewedOn
    priceHistory(provider: $provider) {
      effectiveFrom effectiveTo
      price { inputPerMTok outputPerMTok source statedAsOf lastConfirmedAt }
    }
  }
}
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def dated_catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OfflineCatalog]:
    yield from imported_catalog(request, tmp_path_factory, LOADED_AT)


@pytest.fixture
def database_url(dated_catalog: OfflineCatalog) -> str:
    """A fresh copy of the dated catalog for each test."""
    return dated_catalog.copy()


def _segments(data: dict[str, object]) -> list[tuple[str, str, str, str, str | None]]:
    model = data["model"]
    assert isinstance(model, dict)
    return [
        (
            point["price"]["source"],
            point["price"]["inputPerMTok"],
            point["price"]["outputPerMTok"],
            point["effectiveFrom"],
            point["effectiveTo"],
        )
        for point in model["priceHistory"]
    ]


def _iso(value: str) -> str:
    return datetime.fromisoformat(value).isoformat()


async def _history(client: httpx.AsyncClient, slug: str, provider: str) -> dict[str, object]:
    answer = await graphql(client, HISTORY, {"slug": slug, "provider": provider})
    assert "errors" not in answer, answer
    data = answer["data"]
    assert isinstance(data, dict)
    model = data["model"]
    assert isinstance(model, dict)
    for point in model["priceHistory"]:
        for key in ("effectiveFrom", "effectiveTo"):
            if point[key] is not None:
                point[key] = _iso(point[key])
    return data


async def test_claude_sonnet_5_at_anthropic_is_the_history_the_sources_state(
    client: httpx.AsyncClient,
) -> None:
    # models.dev states $2/$10 as of its snapshot; LiteLLM (better ranked) the same as of
    # its last_updated; genai-prices' scheduled $3/$15 from 2026-09-01 is newer than every
    # better-ranked claim (LiteLLM's, of 07-24), so it applies from its start date.
    data = await _history(client, "claude-sonnet-5", "anthropic")
    assert _segments(data) == [
        ("models.dev", "2", "10", MODELS_DEV, LITELLM),
        ("litellm", "2", "10", LITELLM, SEPTEMBER_1),
        ("genai-prices", "3", "15", SEPTEMBER_1, None),
    ]
    prices = [point["price"] for point in data["model"]["priceHistory"]]  # type: ignore[index]
    assert [(p["statedAsOf"], p["lastConfirmedAt"]) for p in prices] == [
        (MODELS_DEV, MODELS_DEV),
        (LITELLM, LITELLM),
        ("2026-08-21T20:02:24+00:00", "2026-08-21T20:02:24+00:00"),
    ]
    assert data["model"]["lastReviewedOn"] == "2026-08-21"  # type: ignore[index]


async def test_deepseek_chat_at_deepseek_is_the_history_the_sources_state(
    client: httpx.AsyncClient,
) -> None:
    # llm-prices' dated $0.27/$1.10 from 2025-02-08 until a better-ranked source speaks:
    # models.dev ($0.14/$0.28 as of its snapshot), then LiteLLM ($0.28/$0.42). genai-prices'
    # undated $0.27/$1.10 of 08-21 ranks below LiteLLM. llm-prices' $0.14/$0.28 "until
    # 2025-02-08" has no start and the model's stated release (2025-12-01) is later, so
    # nothing says when it was in force: it is not shown.
    data = await _history(client, "deepseek-chat", "deepseek")
    assert _segments(data) == [
        ("llm-prices", "0.27", "1.1", FEBRUARY_8, MODELS_DEV),
        ("models.dev", "0.14", "0.28", MODELS_DEV, LITELLM),
        ("litellm", "0.28", "0.42", LITELLM, None),
    ]


async def test_o3_keeps_the_price_before_its_stated_cut(client: httpx.AsyncClient) -> None:
    # genai-prices: $10/$40 until 2025-06-10 (no start: from the stated release date
    # 2025-04-16), then $2/$8 until LiteLLM (better ranked) states $2/$8; models.dev's
    # $2/$8 of 07-01 ranks below genai-prices.
    data = await _history(client, "o3", "openai")
    assert _segments(data)[:2] == [
        ("genai-prices", "10", "40", "2025-04-16T00:00:00+00:00", "2025-06-10T00:00:00+00:00"),
        ("genai-prices", "2", "8", "2025-06-10T00:00:00+00:00", LITELLM),
    ]


def test_no_price_segment_starts_or_is_stated_at_the_import_moment(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        starts = set(session.scalars(select(Price.effective_from)))
        ends = set(session.scalars(select(Price.effective_to)))
        stated = set(session.scalars(select(Price.stated_at)))
    assert LOADED_AT not in starts | ends | stated
    assert None not in stated
    # The latest start any bundled feed states: genai-prices schedules gemini-3.6-flash's
    # price from 2027-01-01 (a model lab listings create since issue 9).
    assert max(starts) == datetime(2027, 1, 1, tzinfo=UTC)


def _reimport_everything(sessions: sessionmaker[Session], at: datetime) -> int:
    """Apply every bundled snapshot again (past the checksum) with the clock at ``at``;
    the number of events written."""
    events = 0
    for feed in KNOWN_FEEDS:
        path = bundled_path(feed.kind)
        parsed = parse_snapshot(feed.kind, read_snapshot_file(path), as_of=at)
        with sessions.begin() as session:
            report = apply_snapshot(
                session, parsed, source=feed.slug, now=at, stated_at=bundled_stated_at(path)
            )
            events += len(report.events)
    return events


def test_a_reimport_a_day_later_changes_no_history(sessions: sessionmaker[Session]) -> None:
    # Identity does not depend on import order (issue 9), so the first re-import already
    # changes nothing.
    with sessions() as session:
        before = table_contents(
            session, skip_tables={"feed_runs"}, skip_columns={"last_seen_at", "observed_at"}
        )
    assert _reimport_everything(sessions, LOADED_AT + timedelta(days=1)) == 0
    with sessions() as session:
        after = table_contents(
            session, skip_tables={"feed_runs"}, skip_columns={"last_seen_at", "observed_at"}
        )
    assert after == before


def test_the_wandb_unit_errors_are_held_on_first_load(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        wandb = session.scalars(select(Provider.id).where(Provider.slug == "wandb")).one()
        offerings = set(session.scalars(select(Offering.id).where(Offering.provider_id == wandb)))
        holds = list(
            session.scalars(
                select(HeldPriceChange).where(HeldPriceChange.offering_id.in_(offerings))
            )
        )
        held = {hold.offering_id for hold in holds}
        shown = session.scalars(select(Price).where(Price.offering_id.in_(held))).all()
        others = session.scalars(
            select(Price.input_per_mtok).where(Price.offering_id.in_(offerings - held))
        ).all()
    # LiteLLM quotes W&B per token 100,000 times too high: $17,000 input for llama-4-scout.
    assert len(holds) == 13
    assert {hold.status for hold in holds} == {"PENDING"}
    assert all(hold.current is None and hold.proposed.input_per_mtok > D(1000) for hold in holds)
    assert all("median" in hold.reason and "ceiling" in hold.reason for hold in holds)
    assert shown == []
    assert others and all(amount < D(10) for amount in others)  # the correctly quoted ones


FACTS = """
query ($slug: String!) {
  model(slug: $slug) {
    openWeights capabilities releasedOn
    sources { name field value creatorListing statedAsOf }
  }
}
"""


async def _facts(client: httpx.AsyncClient, slug: str) -> dict[str, object]:
    answer = await graphql(client, FACTS, {"slug": slug})
    assert "errors" not in answer, answer
    model = answer["data"]["model"]  # type: ignore[index]
    assert isinstance(model, dict)
    return model


def _claims(model: dict[str, object], field: str) -> dict[str, tuple[str, bool | None]]:
    return {
        source["name"]: (source["value"], source.get("creatorListing"))
        for source in model["sources"]  # type: ignore[union-attr]
        if source["field"] == field
    }


@pytest.mark.parametrize("slug", ["deepseek-v3", "deepseek-r1", "deepseek-v3.2"])
async def test_deepseek_open_models_show_open_weights(client: httpx.AsyncClient, slug: str) -> None:
    # models.dev lists them at several hosts that disagree (Alibaba, SiliconFlow: false;
    # Together, OpenRouter: true): one claim, true because a host states it; R1 has the
    # lab's own file (base_model), whose release date is R1's, not R1-0528's.
    model = await _facts(client, slug)
    assert model["openWeights"] is True
    assert _claims(model, "openWeights")["models.dev"][0] == "true"
    if slug == "deepseek-r1":
        assert model["releasedOn"] == "2025-01-20"
        assert _claims(model, "releasedOn")["models.dev"] == ("2025-01-20", True)


async def test_claude_sonnet_5_is_structured_by_the_creator_api_record(
    client: httpx.AsyncClient,
) -> None:
    # LiteLLM's record for Anthropic's own API states supports_response_schema (models.dev's
    # Anthropic record does not state structured_output); each feed's claim is visible.
    model = await _facts(client, "claude-sonnet-5")
    assert "STRUCTURED_OUTPUTS" in model["capabilities"]  # type: ignore[operator]
    claims = _claims(model, "capabilities")
    assert "STRUCTURED_OUTPUTS" in claims["litellm"][0] and claims["litellm"][1] is True
    assert claims["models.dev"][1] is True


async def test_curated_capabilities_add_to_the_feed_claims(client: httpx.AsyncClient) -> None:
    # The curated file states VISION and MULTIMODAL for Qwen3.5-4B; models.dev (SiliconFlow
    # CN) states reasoning and tool calls. Both show, each with its source.
    model = await _facts(client, "qwen3.5-4b")
    assert {"VISION", "MULTIMODAL", "REASONING", "TOOL_USE", "FUNCTION_CALLING"} <= set(
        model["capabilities"]  # type: ignore[arg-type]
    )
    claims = _claims(model, "capabilities")
    assert "REASONING" in claims["models.dev"][0] and "TOOL_USE" in claims["models.dev"][0]
    assert all(source["statedAsOf"] for source in model["sources"])  # type: ignore[union-attr]


TIERED = """
query ($models: [String!]!, $traffic: TrafficInput) {
  comparison(models: $models, traffic: $traffic) {
    ... on Comparison {
      monthlyCosts {
        model { slug } monthlyUsd tierUnknown
        offering { provider { slug } price { tiers { minInputTokens } tiersSource } }
      }
    }
    ... on ComparisonError { code message }
  }
}
"""


async def test_long_requests_cost_the_long_context_tiers(client: httpx.AsyncClient) -> None:
    # 560M input and 300M output tokens (the default traffic) in 300,000-token requests:
    # gpt-5.5 above OpenAI's 272K tier ($10/$45, LiteLLM) = 5,600 + 13,500 = 19,100;
    # gemini-3.1-pro-preview above Google's 200K tier ($4/$18) = 2,240 + 5,400 = 7,640.
    # OpenRouter states no tiers: its gemini route takes LiteLLM's tiers for the same base
    # price ($2/$12); its gpt-5.5 route has none from any source, so it is not used.
    traffic = {
        "inputTokensPerMonth": 560_000_000,
        "outputTokensPerMonth": 300_000_000,
        "averageInputTokensPerRequest": 300_000,
    }
    answer = await graphql(
        client, TIERED, {"models": ["gpt-5.5", "gemini-3.1-pro-preview"], "traffic": traffic}
    )
    assert "errors" not in answer, answer
    costs = answer["data"]["comparison"]["monthlyCosts"]  # type: ignore[index]
    assert [(c["model"]["slug"], c["monthlyUsd"], c["tierUnknown"]) for c in costs] == [
        ("gpt-5.5", "19100.00", False),
        ("gemini-3.1-pro-preview", "7640.00", False),
    ]
    assert all(c["offering"]["price"]["tiers"] for c in costs)


async def test_a_route_without_stated_tiers_says_so(
    client: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    # Only OpenRouter's gpt-5.5 route is left: no source states its tiers, while OpenAI's
    # route has a 272K tier, so the base-rate estimate is flagged.
    query = """
    query ($traffic: TrafficInput) {
      comparison(models: ["gpt-5.5", "gemini-3.1-pro-preview"], traffic: $traffic) {
        ... on Comparison { monthlyCosts { monthlyUsd tierUnknown } }
      }
    }
    """
    with sessions.begin() as session:  # as if every other gpt-5.5 route were withdrawn
        model = session.scalars(select(LlmModel.id).where(LlmModel.slug == "gpt-5.5")).one()
        openrouter = session.scalars(select(Provider.id).where(Provider.slug == "openrouter")).one()
        for offering in session.scalars(select(Offering).where(Offering.model_id == model)):
            if offering.provider_id != openrouter:
                offering.status = "DEPRECATED"
    traffic = {
        "inputTokensPerMonth": 560_000_000,
        "outputTokensPerMonth": 300_000_000,
        "averageInputTokensPerRequest": 300_000,
    }
    answer = await graphql(client, query, {"traffic": traffic})
    costs = answer["data"]["comparison"]["monthlyCosts"]  # type: ignore[index]
    assert costs[0] == {"monthlyUsd": "11800.00", "tierUnknown": True}


DATES = """
query ($slug: String!) {
  model(slug: $slug) {
    releasedOn releasedOnPrecision knowledgeCutoff knowledgeCutoffPrecision contextWindow
    sources { name field value }
  }
}
"""


async def _model(client: httpx.AsyncClient, slug: str) -> dict[str, object]:
    answer = await graphql(client, DATES, {"slug": slug})
    assert "errors" not in answer, answer
    model = answer["data"]["model"]  # type: ignore[index]
    assert isinstance(model, dict), slug
    return model


async def test_month_precision_stays_a_month_unless_a_day_of_it_is_stated(
    client: httpx.AsyncClient,
) -> None:
    # models.dev states Qwen3-235B's release as 2025-04, OpenRouter as 2025-04-28: they
    # differ only in precision, so the day wins.
    qwen = await _model(client, "qwen3-235b-a22b")
    assert (qwen["releasedOn"], qwen["releasedOnPrecision"]) == ("2025-04-28", "DAY")
    assert _claims(qwen, "releasedOn") == {
        "models.dev": ("2025-04", None),
        "openrouter": ("2025-04-28", None),
    }
    # models.dev states deepseek-chat's knowledge cut-off as 2025-09 and nobody a day.
    deepseek = await _model(client, "deepseek-chat")
    assert (deepseek["knowledgeCutoff"], deepseek["knowledgeCutoffPrecision"]) == (
        "2025-09-01",
        "MONTH",
    )


async def test_small_facts(client: httpx.AsyncClient) -> None:
    # A real model under OpenRouter's own prefix is kept; its routers are not models.
    owl = await _model(client, "owl-alpha")
    assert owl["contextWindow"] == 1048756
    answer = await graphql(client, '{ model(slug: "auto") { slug } }')
    assert answer["data"] == {"model": None}
    # models.dev states whisper's context as 0: unknown, not zero.
    whisper = await _model(client, "whisper-large-v3")
    assert whisper["contextWindow"] is None
