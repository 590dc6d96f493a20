"""The full offline catalog (curated file and the five bundled feeds), on both databases:
the real LiteLLM price-change pair, identity across feeds, and provenance over GraphQL.

The catalog is built once per backend and copied for each test (a SQLite backup, a
PostgreSQL template database), so every test starts from the same imported catalog.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import httpx
import pytest
from apply_helpers import (
    Change,
    EventKey,
    RouteKey,
    Value,
    events_after,
    io,
    last_event_id,
    observed_sources,
    resolved_prices,
    table_contents,
    value_of,
)
from catalog_copies import OfflineCatalog, imported_catalog
from feed_helpers import OFFLINE_AT
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.domain.names import alias_key
from schema.feeds.parse import parse_snapshot
from schema.feeds.sources import BUNDLED_DIR, read_snapshot_file
from schema.ingest.apply import apply_snapshot
from schema.ingest.identity import load_identity
from schema.ingest.offline import import_snapshot_file
from schema.models import LlmModel, ModelAlias
from tests.conftest import (
    graphql,
)

JULY_1 = datetime(2026, 7, 1, 12, tzinfo=UTC)
JULY_3 = datetime(2026, 7, 3, 21, tzinfo=UTC)
"""After the 07-03 snapshot's data date (20:19:29): an import clock never precedes its data."""
HISTORY = BUNDLED_DIR / "litellm" / "history"
LITELLM_JULY_1 = HISTORY / "2026-07-01_f32e5ff0.json.gz"
LITELLM_JULY_3 = HISTORY / "2026-07-03_f6ae3781.json.gz"
BUT_LAST_SEEN = {"skip_tables": {"feed_runs"}, "skip_columns": {"last_seen_at"}}
OUTRANKS_LITELLM = "curated"
"""With the provider's own feed, the only source whose price beats LiteLLM's on a route."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def offline_catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OfflineCatalog]:
    yield from imported_catalog(request, tmp_path_factory, OFFLINE_AT)


@pytest.fixture
def database_url(offline_catalog: OfflineCatalog) -> str:
    """Overrides the empty database of tests/conftest.py: a fresh copy of the offline
    catalog, so that `sessions`, `settings` and `client` work on it."""
    return offline_catalog.copy()


def _litellm_run(sessions: sessionmaker[Session], path: Path, at: datetime) -> str:
    outcome = import_snapshot_file(sessions, "litellm", path, now=lambda: at)
    return outcome.status


def _litellm_prices_by_route(
    path: Path, models: dict[str, str]
) -> dict[RouteKey, set[Value | None]]:
    """What one raw LiteLLM file states for each route, computed apart from the apply code:
    the model through the name LiteLLM uses (its aliases), provider and region by the
    identity rules. Unmatched names have no route."""
    identity = load_identity()
    prices: dict[RouteKey, set[Value | None]] = defaultdict(set)
    for record in parse_snapshot("litellm", read_snapshot_file(path)).records:
        model = models.get(alias_key(record.provider_model_id))
        if model is None:
            continue
        route = identity.route("litellm", record)
        prices[(model, route.provider.slug, route.region)].add(value_of(record.price))
    return prices


def _expected_events(
    models: dict[str, str], shown_before: dict[RouteKey, tuple[str, Value]]
) -> set[Change]:
    """The resolved-price differences the second file must cause, from the two raw files:
    on each route whose LiteLLM price differs, unless a source that outranks LiteLLM
    (the curated file, the provider's own feed) shows the price."""
    before = _litellm_prices_by_route(LITELLM_JULY_1, models)
    after = _litellm_prices_by_route(LITELLM_JULY_3, models)
    expected: set[Change] = set()
    for route in before.keys() | after.keys():
        old, new = before.get(route, {None}), after.get(route, {None})
        if old == new:
            continue
        # Every raw record of a changed route states one price, so no tie-break is involved.
        [old_value], [new_value] = old, new
        assert new_value is not None, f"{route}: this pair removes no price"
        model, provider, region = route
        shown = shown_before.get(route)
        if shown is not None and shown[0] in (OUTRANKS_LITELLM, provider):
            continue
        if shown is not None and shown[0] == "litellm":
            assert shown[1] == old_value, route
        previous = shown[1] if shown is not None else None
        expected.add((model, provider, region, previous, new_value))
    return expected


def _litellm_models(session: Session) -> dict[str, str]:
    statement = (
        select(ModelAlias.key, LlmModel.slug)
        .join(LlmModel, LlmModel.id == ModelAlias.model_id)
        .where(ModelAlias.source == "litellm")
    )
    return dict(session.execute(statement).all())


def _changes(events: list[EventKey]) -> set[Change]:
    return {(model, provider, region, old, new) for _, model, provider, region, old, new in events}


def test_litellm_pair_events_are_exactly_the_resolved_price_differences(
    sessions: sessionmaker[Session],
) -> None:
    assert _litellm_run(sessions, LITELLM_JULY_1, JULY_1) == "SUCCEEDED"
    with sessions() as session:
        before = resolved_prices(session, JULY_3)
        first_new_event = last_event_id(session)
    assert _litellm_run(sessions, LITELLM_JULY_3, JULY_3) == "SUCCEEDED"
    with sessions() as session:
        after = resolved_prices(session, JULY_3)
        events = events_after(session, first_new_event)
        models = _litellm_models(session)
        observing = observed_sources(session, JULY_3)

    # The events are the differences of the resolved prices in force, previous and current.
    differences = {
        (*route, old[1] if old else None, new[1] if new else None)
        for route in before.keys() | after.keys()
        if (old := before.get(route)) != (new := after.get(route))
        and (old and old[1]) != (new and new[1])
    }
    assert _changes(events) == differences
    assert len(events) == len(differences)  # one event per route
    assert {kind for kind, *_, old, new in events if old is None} <= {"ADDED"}
    assert {kind for kind, *_, old, new in events if old is not None} == {"CHANGED"}

    # And they are what the two raw files say, where LiteLLM's price is the one shown.
    assert _changes(events) == _expected_events(models, before)
    sonnet = [
        (provider, region, io(old), io(new))
        for kind, model, provider, region, old, new in events
        if model == "claude-sonnet-5"
    ]
    assert ("anthropic", "", (3, 15), (2, 10)) in sonnet
    assert ("amazon-bedrock", "eu", (D("3.3"), D("16.5")), (D("2.2"), 11)) in sonnet
    # OpenRouter's routes show OpenRouter's own price wherever both it and LiteLLM price one.
    both = [
        route
        for route, sources in observing.items()
        if route[1] == "openrouter" and {"openrouter", "litellm"} <= sources
    ]
    assert len(both) > 50
    assert {after[route][0] for route in both} == {"openrouter"}


def test_importing_the_same_snapshot_again_records_nothing(
    sessions: sessionmaker[Session],
) -> None:
    assert _litellm_run(sessions, LITELLM_JULY_3, JULY_3) == "SUCCEEDED"
    with sessions() as session:
        last_event = last_event_id(session)
        contents = table_contents(session, skip_tables={"feed_runs"})
        but_last_seen = table_contents(session, **BUT_LAST_SEEN)

    # The same bytes: UNCHANGED by checksum, nothing parsed or written.
    assert _litellm_run(sessions, LITELLM_JULY_3, datetime(2026, 7, 4, tzinfo=UTC)) == "UNCHANGED"
    with sessions() as session:
        assert table_contents(session, skip_tables={"feed_runs"}) == contents

    # The same records applied again past the checksum, a day later: no event, and no row
    # changes but the time each listing and unmatched name was last seen.
    parsed = parse_snapshot("litellm", read_snapshot_file(LITELLM_JULY_3), as_of=JULY_3)
    with sessions() as session:
        report = apply_snapshot(
            session, parsed, source="litellm", now=datetime(2026, 7, 5, tzinfo=UTC)
        )
        assert (report.events, report.added, report.changed, report.removed) == ([], 0, 0, 0)
        assert last_event_id(session) == last_event
        assert table_contents(session, **BUT_LAST_SEEN) == but_last_seen


QWEN_QUERY = """{
  models(filter: {search: "qwen3.5-27b"}) {
    totalCount
    edges { node { id slug releasedOn
      offerings { region provider { slug } }
      sources { name field value } } }
  }
  glm: model(slug: "glm-4v-9b") { contextWindow }
}"""
QWEN_NAMES = ["qwen/qwen3.5-27b", "Qwen/Qwen3.5-27B", "openrouter/qwen/qwen3.5-27b", "qwen3.5-27b"]


async def test_one_qwen3_5_27b_across_feeds_with_each_feeds_claims(
    client: httpx.AsyncClient,
) -> None:
    body = await graphql(client, QWEN_QUERY)
    assert "errors" not in body, body
    data = body["data"]
    assert data["models"]["totalCount"] == 1
    [edge] = data["models"]["edges"]
    model = edge["node"]
    assert model["slug"] == "qwen3.5-27b"
    providers = {offering["provider"]["slug"] for offering in model["offerings"]}
    assert {"openrouter", "siliconflow", "alibaba"} <= providers
    assert len(providers) >= 4

    claims: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for source in model["sources"]:
        if source["field"] is not None:
            claims[source["field"]].add((source["name"], source["value"]))
    disputed = {
        fact: sorted(said) for fact, said in claims.items() if len({v for _, v in said}) > 1
    }
    assert disputed["releasedOn"] == [("models.dev", "2026-02-23"), ("openrouter", "2026-02-25")]
    # Shown: the better source's claim (models.dev before OpenRouter).
    assert model["releasedOn"] == "2026-02-23"
    assert data["glm"] == {"contextWindow": 8192}


@pytest.mark.parametrize(
    ("names", "slugs"),
    [
        (QWEN_NAMES, ["qwen3.5-27b"] * 4),
        (["z-ai/glm-4.6v", "z-ai/glm-4.6"], ["glm-4.6v", "glm-4.6"]),
        (["Qwen/Qwen3.5-9B", "Qwen/Qwen3.5-4B"], ["qwen3.5-9b", "qwen3.5-4b"]),
    ],
)
async def test_resolve_model_names_of_the_offline_catalog(
    client: httpx.AsyncClient, names: list[str], slugs: list[str]
) -> None:
    fields = " ".join(
        f'm{index}: resolveModel(name: "{name}") {{ id slug offerings {{ id }} }}'
        for index, name in enumerate(names)
    )
    body = await graphql(client, f"{{ {fields} }}")
    assert "errors" not in body, body
    found = [body["data"][f"m{index}"] for index in range(len(names))]
    assert [model["slug"] for model in found] == slugs
    # Names of one model give one id; names of different models give models with no route
    # in common.
    by_slug = {model["slug"]: model for model in found}
    assert len({model["id"] for model in found}) == len(by_slug)
    routes = [{offering["id"] for offering in model["offerings"]} for model in by_slug.values()]
    assert all(routes)
    assert sum(map(len, routes)) == len(set().union(*routes))


CREATORS_PAGE = """query($after: String) {
  models(first: 200, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { slug name creator { slug name } } }
  }
}"""


async def test_models_have_creators_from_evidence_and_names_without_provider_paths(
    client: httpx.AsyncClient,
) -> None:
    models: list[dict[str, Any]] = []
    after = None
    while True:
        body: dict[str, Any] = await graphql(client, CREATORS_PAGE, {"after": after})
        assert "errors" not in body, body
        page = body["data"]["models"]
        models += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    credited = [model for model in models if model["creator"] is not None]
    assert len(credited) >= 0.97 * len(models)
    creators = {model["creator"]["slug"] for model in credited}
    assert not creators & {"accounts", "pro", "siliconflow", "models", "fireworks"}
    assert [model["name"] for model in models if "/" in model["name"]] == []
    by_slug = {model["slug"]: model["creator"]["slug"] for model in credited}
    assert {by_slug[slug] for slug in ("claude-opus-5", "claude-sonnet-4-5")} == {"anthropic"}
    assert by_slug["kimi-k2.6"] == "moonshotai"
    assert {
        "gpt-5.6",
        "gpt-5.6-sol",
        "gemini-3.6-flash",
        "grok-4.5",
        "kimi-k3",
        "glm-5.3",
    } <= by_slug.keys()
