"""Applying snapshots: which source's price shows (docs/data.md, "Which price is shown"),
which changes are events, dated prices, and routes no feed lists any more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml
from apply_helpers import (
    NOW,
    EventKey,
    InOut,
    RouteKey,
    add_models,
    events_after,
    io,
    last_event_id,
    observed_sources,
    price,
    price_history,
    record,
    resolved_prices,
    snapshot,
    value_of,
)
from feed_helpers import parse_fixture
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.catalog.importer import CURATED_PATH, import_curated
from schema.domain.observations import PriceObservation
from schema.feeds.records import FeedRecord
from schema.ingest.apply import apply_snapshot
from schema.models import FactSource, LlmModel, ObservedPrice, Offering
from tests.conftest import graphql

LATER = NOW + timedelta(days=1)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
"""A date still in the future for the API, which answers at the real clock."""
FEEDS = ["openrouter", "litellm", "models.dev", "genai-prices", "llm-prices"]


def _apply(
    session: Session, feed: str, *records: FeedRecord, now: datetime = NOW
) -> list[EventKey]:
    """The events (as plain values) of one snapshot of ``feed``."""
    after = last_event_id(session)
    apply_snapshot(session, snapshot(feed, *records), source=feed, now=now)
    return events_after(session, after)


def _shown(session: Session, route: RouteKey, at: datetime = NOW) -> tuple[str, InOut] | None:
    """(source, (input, output)) of a route's price in force."""
    found = resolved_prices(session, at).get(route)
    return None if found is None else (found[0], io(found[1]))


def _history(
    session: Session, route: RouteKey
) -> list[tuple[datetime, datetime | None, str, InOut]]:
    """A route's resolved history: (from, to, source, (input, output))."""
    return [
        (start, end, source, io(value))
        for start, end, source, value in price_history(session, route)
    ]


def _curated_with_openrouter(tmp_path: Path) -> Path:
    """The curated file, plus a curated price for GLM-4V-9B on OpenRouter."""
    data = yaml.safe_load(CURATED_PATH.read_text())
    data["providers"].append({"slug": "openrouter", "name": "OpenRouter"})
    data["models"][0]["offerings"].append(
        {
            "provider": "openrouter",
            "provider_model_id": "thudm/glm-4v-9b",
            "source": "llmreference-replicate-glm4v",
            "price": {
                "input_per_mtok": 0.07,
                "output_per_mtok": 0.3,
                "effective_from": "2026-04-19",
            },
        }
    )
    path = tmp_path / "curated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


GLM_REPLICATE = ("glm-4v-9b", "replicate", "")
GLM_OPENROUTER = ("glm-4v-9b", "openrouter", "")


@pytest.mark.parametrize("feed", FEEDS)
def test_curated_price_beats_every_feed(
    sessions: sessionmaker[Session], tmp_path: Path, feed: str
) -> None:
    import_curated(sessions, _curated_with_openrouter(tmp_path), now=NOW)
    cheaper = price("0.01", "0.02")
    with sessions() as session:
        events = _apply(
            session,
            feed,
            record("replicate", "THUDM/glm-4v-9b", cheaper),
            # OpenRouter's own feed on its own route: still below the curated file.
            record("openrouter", "thudm/glm-4v-9b", cheaper),
            now=LATER,
        )
        assert events == []
        assert _shown(session, GLM_REPLICATE, LATER) == (
            "curated",
            (Decimal("0.05"), Decimal("0.25")),
        )
        assert _shown(session, GLM_OPENROUTER, LATER) == (
            "curated",
            (Decimal("0.07"), Decimal("0.3")),
        )
        # The feed's price is kept, only not shown.
        observing = observed_sources(session, LATER)
        assert observing[GLM_REPLICATE] == observing[GLM_OPENROUTER] == {"curated", feed}


@pytest.mark.parametrize("feed", ["models.dev", "openrouter"])
def test_curated_fact_beats_the_model_feeds_which_still_show_their_claim(
    sessions: sessionmaker[Session], feed: str
) -> None:
    import_curated(sessions, now=NOW)
    with sessions() as session:
        claim = record("openrouter", "thudm/glm-4v-9b", context_window=131072, license="MIT")
        _apply(session, feed, claim)
        glm = session.scalars(select(LlmModel).where(LlmModel.slug == "glm-4v-9b")).one()
        assert (glm.context_window, glm.license) == (8192, "GLM-4 Model License")
        claims = set(
            session.execute(
                select(FactSource.origin, FactSource.value).where(
                    FactSource.model_id == glm.id, FactSource.field == "contextWindow"
                )
            )
        )
        assert claims == {("curated", "8192"), (feed, "131072")}


LADDER = ["llm-prices", "models.dev", "genai-prices", "litellm"]
"""The feeds' ranks on a route that none of them owns, worst first."""
MISTRAL = ("mistral-small", "mistral", "")


def test_a_better_source_takes_over_and_a_worse_one_never_does(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        add_models(session, "mistral-small")
        for rank, feed in enumerate(LADDER, start=1):
            events = _apply(
                session, feed, record("mistral", "mistral-small", price(str(rank), "9"))
            )
            assert [(kind, io(new)) for kind, *_, new in events] == [
                ("ADDED" if rank == 1 else "CHANGED", (rank, 9))
            ]
            assert _shown(session, MISTRAL) == (feed, (rank, 9))
        best = len(LADDER)
        for feed in LADDER[:-1]:
            assert (
                _apply(session, feed, record("mistral", "mistral-small", price("0.5", "5"))) == []
            )
            assert _shown(session, MISTRAL) == ("litellm", (best, 9))


OPENROUTER_QWEN = ("qwen3.5-27b", "openrouter", "")


@pytest.mark.parametrize("openrouter_first", [True, False])
def test_openrouters_own_feed_beats_litellm_on_openrouter_routes(
    sessions: sessionmaker[Session], openrouter_first: bool
) -> None:
    own = ("openrouter", record("openrouter", "qwen/qwen3.5-27b", price("0.195", "1.56")))
    litellm = ("litellm", record("openrouter", "openrouter/qwen/qwen3.5-27b", price("0.3", "2.4")))
    with sessions() as session:
        add_models(session, "qwen3.5-27b")
        for feed, item in [own, litellm] if openrouter_first else [litellm, own]:
            _apply(session, feed, item)
        assert _shown(session, OPENROUTER_QWEN) == (
            "openrouter",
            (Decimal("0.195"), Decimal("1.56")),
        )
        # LiteLLM's next price on the route is kept but changes nothing shown.
        cut = record("openrouter", "openrouter/qwen/qwen3.5-27b", price("0.15", "1.2"))
        assert _apply(session, "litellm", cut, now=LATER) == []
        assert _shown(session, OPENROUTER_QWEN, LATER)[0] == "openrouter"  # type: ignore[index]


@pytest.mark.parametrize(
    ("worse", "better", "route"),
    [
        ("llm-prices", "genai-prices", ("mistral", "mistral-small")),
        ("genai-prices", "litellm", ("mistral", "mistral-small")),
        ("models.dev", "litellm", ("mistral", "mistral-small")),
        ("litellm", "openrouter", ("openrouter", "mistralai/mistral-small")),
    ],
)
def test_the_same_price_confirmed_by_a_better_source_is_no_event(
    sessions: sessionmaker[Session], worse: str, better: str, route: tuple[str, str]
) -> None:
    provider, model_id = route
    same = price("0.1", "0.3")
    with sessions() as session:
        add_models(session, "mistral-small")
        added = _apply(session, worse, record(provider, model_id, same))
        assert [(kind, io(new)) for kind, *_, new in added] == [
            ("ADDED", (Decimal("0.1"), Decimal("0.3")))
        ]
        assert _apply(session, better, record(provider, model_id, same), now=LATER) == []
        assert _shown(session, ("mistral-small", provider, ""), LATER) == (
            better,
            (Decimal("0.1"), Decimal("0.3")),
        )


KEPT = ("kept-model", "openai", "")
GONE = ("gone-model", "openai", "")


@pytest.mark.parametrize(
    ("second", "genai_price", "kind", "current", "status"),
    [
        # No feed lists the route any more.
        ("dropped", None, "REMOVED", None, "DEPRECATED"),
        # LiteLLM still lists it, with no price: listed, but nothing prices it.
        ("unpriced", None, "REMOVED", None, "ACTIVE"),
        # Another feed still prices and lists it: its price shows.
        ("dropped", "7", "CHANGED", (7, 7), "ACTIVE"),
    ],
)
def test_a_route_no_feed_prices_any_more(
    sessions: sessionmaker[Session],
    second: str,
    genai_price: str | None,
    kind: str,
    current: tuple[int, int] | None,
    status: str,
) -> None:
    with sessions() as session:
        add_models(session, "kept-model", "gone-model")
        kept = record("openai", "kept-model", price("1", "2"))
        _apply(session, "litellm", kept, record("openai", "gone-model", price("3", "4")))
        if genai_price is not None:
            _apply(
                session,
                "genai-prices",
                record("openai", "gone-model", price(genai_price, genai_price)),
            )
        rest = [kept] + ([record("openai", "gone-model")] if second == "unpriced" else [])
        events = _apply(session, "litellm", *rest, now=LATER)
        assert [(k, route, io(old), io(new)) for k, *route, old, new in events] == [
            (kind, list(GONE), (3, 4), current)
        ]
        offering = session.scalars(
            select(Offering).join(LlmModel).where(LlmModel.slug == "gone-model")
        ).one()  # never deleted
        assert offering.status == status
        assert _history(session, GONE)[0] == (NOW, LATER, "litellm", (3, 4))  # kept
        assert _shown(session, KEPT, LATER) == ("litellm", (1, 2))


JULY_1 = datetime(2026, 7, 1, tzinfo=UTC)
SEPTEMBER_1 = datetime(2026, 9, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("feed", "fixture"), [("genai-prices", "data.json"), ("llm-prices", "anthropic.json")]
)
def test_a_price_dated_later_is_stored_and_waits_for_its_date(
    sessions: sessionmaker[Session], feed: str, fixture: str
) -> None:
    # Both recorded excerpts, read on 2026-07-01: claude-sonnet-5 costs $2/$10 until
    # 2026-09-01 and $3/$15 from then.
    sonnet = ("claude-sonnet-5", "anthropic", "")
    with sessions() as session:
        add_models(session, "claude-sonnet-5")
        parsed = parse_fixture(feed, fixture, as_of=JULY_1)
        apply_snapshot(session, parsed, source=feed, now=JULY_1)
        # The event is for the price in force now; the later one is only stored.
        assert [
            (kind, io(old), io(new))
            for kind, *route, old, new in events_after(session)
            if tuple(route) == sonnet
        ] == [("ADDED", None, (2, 10))]
        assert _history(session, sonnet) == [
            (JULY_1, SEPTEMBER_1, feed, (2, 10)),
            (SEPTEMBER_1, None, feed, (3, 15)),
        ]
        assert _shown(session, sonnet, JULY_1) == (feed, (2, 10))
        assert _shown(session, sonnet, SEPTEMBER_1) == (feed, (3, 15))


@pytest.mark.parametrize(
    ("feed", "fixture", "route", "since", "dated"),
    [
        # o3 costs $2/$8 since 2025-06-10 ($10/$40 before).
        ("genai-prices", "data.json", ("o3", "openai"), datetime(2025, 6, 10, tzinfo=UTC), (2, 8)),
        # deepseek-chat costs $0.27/$1.10 since 2025-02-08 ($0.14/$0.28 before).
        (
            "llm-prices",
            "deepseek.json",
            ("deepseek-chat", "deepseek"),
            datetime(2025, 2, 8, tzinfo=UTC),
            (Decimal("0.27"), Decimal("1.1")),
        ),
    ],
)
def test_a_feeds_dated_history_fills_the_time_before_a_better_source(
    sessions: sessionmaker[Session],
    feed: str,
    fixture: str,
    route: tuple[str, str],
    since: datetime,
    dated: tuple[Decimal, Decimal],
) -> None:
    model, provider = route
    key = (model, provider, "")
    with sessions() as session:
        add_models(session, model)
        apply_snapshot(session, parse_fixture(feed, fixture, as_of=JULY_1), source=feed, now=JULY_1)
        # The price that ended before it was first observed is not kept; the one that
        # started before then shows from its own date.
        assert _history(session, key) == [(since, None, feed, dated)]
        # A better source's undated price shows from when it is first observed.
        _apply(session, "litellm", record(provider, model, price("1", "4")))
        assert _history(session, key) == [
            (since, NOW, feed, dated),
            (NOW, None, "litellm", (1, 4)),
        ]


def test_a_route_whose_only_price_starts_later_is_stored_and_not_shown(
    sessions: sessionmaker[Session],
) -> None:
    announced = PriceObservation(Decimal(5), Decimal(6), effective_from=FAR_FUTURE)
    with sessions() as session:
        add_models(session, "new-model")
        future_only = FeedRecord(
            provider="openai", provider_model_id="new-model", price_history=(announced,)
        )
        assert _apply(session, "genai-prices", future_only) == []
        stored = session.scalars(select(ObservedPrice)).one()
        assert (stored.effective_from, value_of(stored)) == (FAR_FUTURE, value_of(announced))
        route = ("new-model", "openai", "")
        assert _history(session, route) == [(FAR_FUTURE, None, "genai-prices", (5, 6))]
        assert _shown(session, route) is None


HISTORY_QUERY = """{ model(slug: "qwen3.5-27b") {
  offerings { provider { slug } price { inputPerMTok outputPerMTok source effectiveFrom } }
  priceHistory { provider { slug } effectiveFrom effectiveTo price { inputPerMTok outputPerMTok } }
} }"""


async def test_price_history_and_price_in_force_over_graphql(
    sessions: sessionmaker[Session], client: httpx.AsyncClient
) -> None:
    june = datetime(2026, 6, 1, tzinfo=UTC)
    dated = record(
        "openrouter",
        "qwen/qwen3.5-27b",
        price("0.2", "1.6", effective_from=june, effective_to=FAR_FUTURE),
        price_history=(price("0.1", "0.8", effective_from=FAR_FUTURE),),
    )
    with sessions.begin() as session:
        add_models(session, "qwen3.5-27b")
        apply_snapshot(session, snapshot("genai-prices", dated), source="genai-prices", now=NOW)
    body = await graphql(client, HISTORY_QUERY)
    assert body == {
        "data": {
            "model": {
                "offerings": [
                    {
                        "provider": {"slug": "openrouter"},
                        "price": {
                            "inputPerMTok": "0.2",
                            "outputPerMTok": "1.6",
                            "source": "genai-prices",
                            "effectiveFrom": "2026-06-01T00:00:00+00:00",
                        },
                    }
                ],
                "priceHistory": [
                    {
                        "provider": {"slug": "openrouter"},
                        "effectiveFrom": "2026-06-01T00:00:00+00:00",
                        "effectiveTo": "2100-01-01T00:00:00+00:00",
                        "price": {"inputPerMTok": "0.2", "outputPerMTok": "1.6"},
                    },
                    {
                        "provider": {"slug": "openrouter"},
                        "effectiveFrom": "2100-01-01T00:00:00+00:00",
                        "effectiveTo": None,
                        "price": {"inputPerMTok": "0.1", "outputPerMTok": "0.8"},
                    },
                ],
            }
        }
    }
