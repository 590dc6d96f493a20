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


class Clock:
    """The "now" of the app's requests: the real clock until a test sets ``now``."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


class App:
    """The running app: its client, the statements of its last request, its engine, and
    its clock."""

    def __init__(
        self, http: httpx.AsyncClient, statements: list[str], engine: AsyncEngine, clock: Clock
    ) -> None:
        self.http = http
        self.statements = statements
        self.engine = engine
        self.clock = clock

    async def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        self.statements.clear()
        return await self.http.post("/graphql", json=body, headers=headers)

    async def get(self, params: dict[str, Any], **headers: str) -> httpx.Response:
        self.statements.clear()
        encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        return await self.http.get("/graphql", params=encoded, headers=headers)


async def served_app(settings: Settings) -> AsyncIterator[App]:
    engine = make_async_engine(settings.database_url)
    statements: list[str] = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    clock = Clock()
    app = create_app(settings, engine=engine, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        await app.state.hub.ready()
        yield App(http, statements, engine, clock)
