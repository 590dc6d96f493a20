"""The app in-process over ASGI with its own engine and clock, counting its SQL statements."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from schema.db.engine import make_async_engine
from schema.settings import Settings


class App:
    """The running app: its client, the statements of its last request, its engine, and
    the "now" its requests are answered at (the real clock until a test sets one)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.http = httpx.AsyncClient()
        self.statements: list[str] = []
        self.engine = engine
        self.now: datetime | None = None

    def clock(self) -> datetime:
        return self.now or datetime.now(UTC)

    async def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        self.statements.clear()
        return await self.http.post("/graphql", json=body, headers=headers)

    async def get(self, params: dict[str, Any], **headers: str) -> httpx.Response:
        self.statements.clear()
        encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        return await self.http.get("/graphql", params=encoded, headers=headers)


async def served_app(settings: Settings) -> AsyncIterator[App]:
    engine = make_async_engine(settings.database_url)
    served = App(engine)
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda *args: served.statements.append(args[2]),
    )
    app = create_app(settings, engine=engine, clock=served.clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        await app.state.hub.ready()
        served.http = http
        yield served
