"""Order independence (issue 9 point 3): the catalog after importing the five bundled
feeds in any order is the same, and importing the same content again changes nothing.

Each example is a full offline load into its own SQLite file (a few seconds each), so the
property runs few examples; the baseline is the usual order (schema.feeds.sources).
"""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import resolved_prices
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from schema.catalog.importer import import_curated
from schema.db.engine import make_engine, make_sessionmaker
from schema.feeds.sources import KNOWN_FEEDS, bundled_path, read_snapshot_file
from schema.ingest.offline import import_snapshot_file
from schema.migrations import upgrade
from schema.models import (
    LlmModel,
    ModelAlias,
    Offering,
    Organization,
    Provider,
    UnmatchedName,
)

AT = datetime(2026, 6, 30, 12, tzinfo=UTC)
FEEDS = [feed.slug for feed in KNOWN_FEEDS]

State = dict[str, Any]


def _load(directory: Path, order: list[str]) -> sessionmaker[Session]:
    url = f"sqlite:///{directory / f'{uuid.uuid4().hex}.db'}"
    upgrade(url)
    sessions = make_sessionmaker(make_engine(url))
    import_curated(sessions, now=AT)
    for slug in order:
        outcome = import_snapshot_file(sessions, slug, now=lambda: AT)
        assert outcome.status == "SUCCEEDED", outcome
    return sessions


def catalog_state(session: Session) -> State:
    """The catalog as values (no row ids): models with name and creator, aliases, the
    routes some source lists, the resolved prices in force, and the names listed for ops.
    (Routes are never deleted: one that a partial catalog put on a model and a later feed
    moved stays there DEPRECATED, so those depend on the order by design.)"""
    creator = aliased(Organization)
    models = set(
        session.execute(
            select(LlmModel.slug, LlmModel.name, creator.slug).outerjoin(
                creator, creator.id == LlmModel.creator_id
            )
        )
    )
    aliases = set(
        session.execute(
            select(LlmModel.slug, ModelAlias.key, ModelAlias.source).join(
                LlmModel, LlmModel.id == ModelAlias.model_id
            )
        )
    )
    routes = set(
        session.execute(
            select(
                LlmModel.slug,
                Provider.slug,
                Offering.region,
                Offering.provider_model_id,
                Offering.status,
            )
            .join(LlmModel, LlmModel.id == Offering.model_id)
            .join(Provider, Provider.id == Offering.provider_id)
            .where(Offering.status == "ACTIVE")
        )
    )
    names = set(
        session.execute(
            select(
                UnmatchedName.name,
                UnmatchedName.source,
                UnmatchedName.provider_slug,
                UnmatchedName.kind,
                UnmatchedName.reason,
            )
        )
    )
    return {
        "models": models,
        "aliases": aliases,
        "routes": routes,
        "prices": resolved_prices(session, AT),
        "names": names,
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("identity-order")


@pytest.fixture(scope="module")
def baseline(workdir: Path) -> tuple[sessionmaker[Session], State]:
    sessions = _load(workdir, FEEDS)
    with sessions() as session:
        state = catalog_state(session)
    return sessions, state


def _differences(first: State, second: State) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in first:
        a, b = first[part], second[part]
        if a != b:
            if isinstance(a, dict):
                keys = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
                found[part] = sorted(keys, key=str)[:10]
            else:
                found[part] = {
                    "only first": sorted(a - b, key=str)[:10],
                    "only second": sorted(b - a, key=str)[:10],
                }
    return found


@settings(
    max_examples=3,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(order=st.permutations(FEEDS))
def test_any_import_order_gives_the_same_catalog(
    order: list[str], workdir: Path, baseline: tuple[sessionmaker[Session], State]
) -> None:
    sessions = _load(workdir, list(order))
    with sessions() as session:
        state = catalog_state(session)
    assert _differences(baseline[1], state) == {}
    assert len(state["models"]) > 600


def test_importing_the_same_content_again_changes_nothing(
    baseline: tuple[sessionmaker[Session], State], tmp_path: Path
) -> None:
    """LiteLLM's bundled file with only last_updated edited: a new checksum, so the run
    applies it; the catalog stays exactly as it was."""
    sessions, before = baseline
    document = json.loads(read_snapshot_file(bundled_path("litellm")))
    document["last_updated"] = "2026-06-30T13:00:00Z"
    edited = tmp_path / "litellm.json.gz"
    edited.write_bytes(gzip.compress(json.dumps(document).encode()))
    outcome = import_snapshot_file(sessions, "litellm", edited, now=lambda: AT)
    assert outcome.status == "SUCCEEDED"
    assert outcome.report is not None and outcome.report.events == []
    with sessions() as session:
        assert catalog_state(session) == before
