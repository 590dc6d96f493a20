"""Query.priceChanges: recorded events in order, resume after an id, retention."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from schema.catalog.importer import import_curated
from schema.db.base import utcnow
from schema.models import PriceChangeEvent
from schema.services.prices import prune_events
from tests.conftest import graphql

CHANGES = "query($after: ID) { priceChanges(after: $after) { id kind model { slug } provider { slug } current { outputPerMTok } } }"


def _event_ids(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(PriceChangeEvent.id).order_by(PriceChangeEvent.id)))


async def test_events_in_order_and_resume(
    client: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    import_curated(sessions)
    [first] = _event_ids(sessions)
    body = await graphql(client, CHANGES)
    assert body["data"] == {
        "priceChanges": [
            {
                "id": str(first),
                "kind": "ADDED",
                "model": {"slug": "glm-4v-9b"},
                "provider": {"slug": "replicate"},
                "current": {"outputPerMTok": "0.25"},
            }
        ]
    }
    resumed = await graphql(client, CHANGES, {"after": str(first)})
    assert resumed["data"] == {"priceChanges": []}


async def test_unknown_or_expired_after_is_events_expired(
    client: httpx.AsyncClient, sessions: sessionmaker[Session]
) -> None:
    import_curated(sessions)
    [first] = _event_ids(sessions)
    for after in [str(first + 1000), "not-an-id"]:
        body = await graphql(client, CHANGES, {"after": after})
        assert body["errors"][0]["extensions"]["code"] == "EVENTS_EXPIRED"  # type: ignore[index]
    with sessions.begin() as session:
        session.execute(update(PriceChangeEvent).values(occurred_at=utcnow() - timedelta(days=31)))
    body = await graphql(client, CHANGES, {"after": str(first)})
    assert body["errors"][0]["extensions"]["code"] == "EVENTS_EXPIRED"  # type: ignore[index]
    assert "older than 30 days" in body["errors"][0]["message"]  # type: ignore[index]


def test_pruning_keeps_unpublished_and_recent_events(sessions: sessionmaker[Session]) -> None:
    import_curated(sessions)
    with sessions.begin() as session:
        session.execute(update(PriceChangeEvent).values(occurred_at=utcnow() - timedelta(days=40)))
    with sessions.begin() as session:
        assert prune_events(session, before=utcnow() - timedelta(days=30)) == 0  # not published
        session.execute(update(PriceChangeEvent).values(published_at=utcnow()))
    with sessions.begin() as session:
        assert prune_events(session, before=utcnow() - timedelta(days=50)) == 0  # recent enough
        assert prune_events(session, before=utcnow() - timedelta(days=30)) == 1
    assert _event_ids(sessions) == []
