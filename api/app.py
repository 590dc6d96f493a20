"""The ASGI application: GraphQL at /graphql (POST, GET, GraphiQL), health endpoints."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.cache import ComparisonCache, create_cache
from api.context import Context
from api.graphql.loaders import create_loaders
from api.graphql.schema import build_schema
from schema.db.engine import make_async_engine, make_async_sessionmaker
from schema.settings import Settings


class LlmrefGraphQL(GraphQL[Context, None]):
    def __init__(self, settings: Settings, engine: AsyncEngine, cache: ComparisonCache) -> None:
        super().__init__(build_schema(settings), graphql_ide="graphiql")
        self.settings = settings
        self.sessions = make_async_sessionmaker(engine)
        self.cache = cache

    async def get_context(self, request: Request | WebSocket, response: Response | None) -> Context:  # type: ignore[override]
        now = datetime.now(UTC)
        return Context(
            settings=self.settings,
            sessions=self.sessions,
            loaders=create_loaders(self.sessions, now),
            now=now,
            cache=self.cache,
            request=request,
            response=response,
        )


def create_app(settings: Settings, *, engine: AsyncEngine | None = None) -> Starlette:
    engine = engine or make_async_engine(settings.database_url)
    cache = create_cache(settings.redis_url)
    graphql = LlmrefGraphQL(settings, engine, cache)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            return JSONResponse({"status": "unavailable", "database": str(error)}, status_code=503)
        return JSONResponse({"status": "ready"})

    middleware: list[Any] = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await cache.close()
        await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST", "OPTIONS"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.engine = engine
    return app
