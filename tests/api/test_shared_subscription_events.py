"""Subscribers asking the same selection share one execution per event: the database work
and the JSON encoding per event do not grow with the number of subscribers, and subscribers
presenting different keys (who may see different things) do not share."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from starlette.testclient import WebSocketTestSession as WebSocket

from api.app import create_app
from schema.auth import create_api_key
from schema.catalog.importer import CURATED_PATH, import_curated
from schema.db.base import utcnow
from schema.db.engine import make_async_engine
from schema.events import publisher
from schema.models import FeedRun, FeedSource, PriceChangeEvent
from schema.settings import Settings
from tests.api.test_comparison_cache import reprice

NESTED = """subscription { priceChanges { id kind model { slug } provider { slug }
  offering { id } current { outputPerMTok } } }"""


def _subscribe(
    client: TestClient, stack: ExitStack, number: int, query: str = NESTED, key: str | None = None
) -> WebSocket:
    ws = stack.enter_context(
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])
    )
    ws.send_json(
        {"type": "connection_init", "payload": {"authorization": f"Bearer {key}"} if key else {}}
    )
    assert ws.receive_json()["type"] == "connection_ack"
    ws.send_json({"id": str(number), "type": "subscribe", "payload": {"query": query}})
    return ws


def _count_event_encodings(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every JSON encoding (orjson.dumps) of something holding an event's data."""
    encoded: list[object] = []
    dumps = orjson.dumps

    def counting(value: Any, *args: Any, **kwargs: Any) -> bytes:
        payload = value.get("payload", value) if isinstance(value, dict) else None
        if isinstance(payload, dict) and "priceChanges" in (payload.get("data") or {}):
            encoded.append(value)
        return dumps(value, *args, **kwargs)

    monkeypatch.setattr(orjson, "dumps", counting)
    return encoded


def _wait_subscribers(client: TestClient, count: int) -> None:
    deadline = time.monotonic() + 10
    while client.get("/healthz").json()["subscribers"] != count:
        assert time.monotonic() < deadline, "subscriptions never registered"
        time.sleep(0.02)


def test_the_database_work_and_encoding_per_event_do_not_grow_with_subscribers(
    settings: Settings,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encodings = _count_event_encodings(monkeypatch)
    engine = make_async_engine(settings.database_url)
    statements: list[str] = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    app = create_app(settings, engine=engine)
    with TestClient(app) as client, ExitStack() as stack:
        publish = publisher(sessions, redis_url=None, notify=app.state.hub.notify, now=utcnow)
        counts, encoded = [], []
        sockets: list[WebSocket] = []
        for subscribers, curated in ((1, CURATED_PATH), (3, reprice(tmp_path, "0.10", "0.50"))):
            while len(sockets) < subscribers:
                sockets.append(_subscribe(client, stack, len(sockets)))
            _wait_subscribers(client, subscribers)
            statements.clear()
            encodings.clear()
            import_curated(sessions, curated, after_commit=publish)  # one event
            received = [ws.receive_json() for ws in sockets]
            counts.append(len(statements))
            encoded.append(len(encodings))
            assert [message["id"] for message in received] == [str(n) for n in range(subscribers)]
            events = [message["payload"]["data"]["priceChanges"] for message in received]
            assert all(e == events[0] for e in events), events
            assert (events[0]["model"]["slug"], events[0]["provider"]["slug"]) == (
                "glm-4v-9b",
                "replicate",
            )
        assert events[0]["current"] == {"outputPerMTok": "0.5"}
        assert counts[1] == counts[0], counts
        assert encoded == [1, 1]


FEED_RUN = "subscription { priceChanges { id feedRun { id } } }"


def test_subscribers_presenting_different_keys_do_not_share_an_event(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    """The same document, for an ops key and for no key: each sees the event as its role
    allows (the run that recorded it, or null), whichever of them executes it first."""
    with sessions.begin() as session:
        _, ops = create_api_key(session, name="ops tooling", role="ops", now=utcnow())
    import_curated(sessions, after_commit=publisher(sessions, redis_url=None, now=utcnow))
    app = create_app(settings)
    with TestClient(app) as client, ExitStack() as stack:
        sockets = [
            _subscribe(client, stack, 0, FEED_RUN, key=ops),
            _subscribe(client, stack, 1, FEED_RUN),
            _subscribe(client, stack, 2, FEED_RUN, key=ops),
            _subscribe(client, stack, 3, FEED_RUN),
        ]
        _wait_subscribers(client, len(sockets))
        with sessions.begin() as session:
            recorded = session.scalars(select(PriceChangeEvent).limit(1)).one()
            run = FeedRun(
                source_id=session.scalars(select(FeedSource.id).limit(1)).one(),
                status="SUCCEEDED",
                queued_at=utcnow(),
            )
            session.add(run)
            session.flush()
            change = PriceChangeEvent(
                kind="CHANGED",
                offering_id=recorded.offering_id,
                model_id=recorded.model_id,
                provider_id=recorded.provider_id,
                previous=recorded.current,
                current=recorded.current,
                occurred_at=utcnow(),
                feed_run_id=run.id,
            )
            session.add(change)
            session.flush()
            expected = {"id": str(change.id), "feedRun": {"id": str(run.id)}}
        publisher(sessions, redis_url=None, notify=app.state.hub.notify, now=utcnow)([])
        seen = [ws.receive_json()["payload"]["data"]["priceChanges"] for ws in sockets]
    hidden = {**expected, "feedRun": None}
    assert seen == [expected, hidden, expected, hidden]
