"""Subscribers asking the same selection share one execution per event: the database work
per event does not grow with the number of subscribers."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from starlette.testclient import WebSocketTestSession as WebSocket

from api.app import create_app
from schema.catalog.importer import CURATED_PATH, import_curated
from schema.db.base import utcnow
from schema.db.engine import make_async_engine
from schema.events import publisher
from schema.settings import Settings
from tests.api.test_comparison_cache import reprice

NESTED = """subscription { priceChanges { id kind model { slug } provider { slug }
  offering { id } current { outputPerMTok } } }"""


def _subscribe(client: TestClient, stack: ExitStack, number: int) -> WebSocket:
    ws = stack.enter_context(
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])
    )
    ws.send_json({"type": "connection_init"})
    assert ws.receive_json()["type"] == "connection_ack"
    ws.send_json({"id": str(number), "type": "subscribe", "payload": {"query": NESTED}})
    return ws


def _wait_subscribers(client: TestClient, count: int) -> None:
    deadline = time.monotonic() + 10
    while client.get("/healthz").json()["subscribers"] != count:
        assert time.monotonic() < deadline, "subscriptions never registered"
        time.sleep(0.02)


def test_the_database_work_per_event_does_not_grow_with_subscribers(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    engine = make_async_engine(settings.database_url)
    statements: list[str] = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    app = create_app(settings, engine=engine)
    with TestClient(app) as client, ExitStack() as stack:
        publish = publisher(sessions, redis_url=None, notify=app.state.hub.notify, now=utcnow)
        counts = []
        sockets: list[WebSocket] = []
        for subscribers, curated in ((1, CURATED_PATH), (3, reprice(tmp_path, "0.10", "0.50"))):
            while len(sockets) < subscribers:
                sockets.append(_subscribe(client, stack, len(sockets)))
            _wait_subscribers(client, subscribers)
            statements.clear()
            import_curated(sessions, curated, after_commit=publish)  # one event
            received = [ws.receive_json() for ws in sockets]
            counts.append(len(statements))
            events = [message["payload"]["data"]["priceChanges"] for message in received]
            assert all(e == events[0] for e in events), events
            assert (events[0]["model"]["slug"], events[0]["provider"]["slug"]) == (
                "glm-4v-9b",
                "replicate",
            )
        assert events[0]["current"] == {"outputPerMTok": "0.5"}
        assert counts[1] == counts[0], counts
