"""The ASGI application: GraphQL at /graphql (POST, GET, GraphiQL), health endpoints."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.cache import ComparisonCache, LocalComparisonCache, create_cache
from api.catalog_generation import CatalogGeneration
from api.context import Context
from api.events.hub import EventHub
from api.graphiql import graphiql_page
from api.graphiql import routes as graphiql_routes
from api.graphql.cacheable import cacheable_digest
from api.graphql.http import GuardedGraphQL
from api.graphql.schema import build_schema
from api.metrics import CONTENT_TYPE, CountingCache, Metrics, exposition
from api.persisted_queries import PersistedQueries
from api.queue import CeleryRunQueue
from api.ratelimit import RateLimiter, create_rate_limiter
from api.response_cache import ResponseCachingGraphQL
from api.runner import EmbeddedRunner
from api.services.catalog_pages import CatalogPages
from api.services.loaders import create_loaders
from api.ws import handler_class
from schema.db.base import utcnow
from schema.db.engine import (
    make_async_engine,
    make_async_sessionmaker,
    make_engine,
    make_sessionmaker,
)
from schema.events import publisher
from schema.migrations import head_revision
from schema.settings import Settings


class LlmrefGraphQL(GuardedGraphQL):
    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        cache: ComparisonCache,
        enqueue_run: Callable[[int], Awaitable[None]],
        publish: Callable[[Iterable[int]], None],
        hub: EventHub,
        metrics: Metrics,
        rate_limiter: RateLimiter,
        pages: CatalogPages | None,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(
            build_schema(settings, rate_limiter=rate_limiter),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self.graphql_transport_ws_handler_class = handler_class(
            settings.ws_ping_interval_seconds, settings.ws_max_connection_seconds
        )
        self.hub = hub
        self.settings = settings
        self.metrics = metrics
        self.sessions = make_async_sessionmaker(engine)
        self.cache = cache
        self.enqueue_run = enqueue_run
        self._publish = publish
        self.pages = pages
        self.clock = clock

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page()  # its assets come from this server, not a CDN

    async def publish(self, model_ids: Iterable[int]) -> None:
        await asyncio.to_thread(self._publish, list(model_ids))

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        now = self.clock()
        return Context(
            settings=self.settings,
            sessions=self.sessions,
            loaders=create_loaders(self.sessions, now),
            now=now,
            cache=self.cache,
            enqueue_run=self.enqueue_run,
            publish=self.publish,
            hub=self.hub,
            pages=self.pages,
            request=request,
            response=response,
        )

    def encode_json(self, data: object) -> str:
        """Text: graphql-transport-ws messages must be text frames."""
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)


class GraphQLFirst:
    """GET and POST on /graphql go straight to its endpoint, past Starlette's router and
    exception middleware: the hot path of cached answers. The rest (OPTIONS on /graphql
    included) goes on to the routes."""

    def __init__(self, app: ASGIApp, endpoint: ASGIApp) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == "/graphql"
            and scope["method"] in ("GET", "POST")
        ):
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Starlette:
    """The app. With Redis: Celery workers run the feeds and the cache is shared. Without:
    an embedded runner in this process runs them (unless LLMREF_RUN_FEEDS=false). `clock`
    gives each request's "now" (the moment its prices in force are read at)."""
    engine = engine or make_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    sync_engine = make_engine(settings.database_url)
    sync_sessions = make_sessionmaker(sync_engine)
    cache = create_cache(settings.redis_url)
    hub = EventHub(
        sessions=make_async_sessionmaker(engine),
        redis_url=settings.redis_url,
        poll_seconds=settings.event_poll_seconds,
        queue_size=settings.subscriber_queue_size,
    )
    runner: EmbeddedRunner | None = None
    if settings.redis_url:
        queue = CeleryRunQueue(settings.redis_url)
        enqueue_run, publish = (
            queue.enqueue,
            publisher(sync_sessions, redis_url=settings.redis_url, now=utcnow),
        )
    else:
        assert isinstance(cache, LocalComparisonCache)
        runner = EmbeddedRunner(settings, sync_sessions, cache.local, notify=hub.notify)
        enqueue_run, publish = runner.enqueue, runner.publish
    metrics = Metrics()
    rate_limiter = create_rate_limiter(settings)
    generation = CatalogGeneration(settings.redis_url) if settings.redis_url else None
    pages = (
        CatalogPages(generation, settings.page_cache_rows)
        if generation is not None and settings.page_cache_rows
        else None
    )
    graphql = LlmrefGraphQL(
        settings,
        engine,
        CountingCache(cache, metrics),
        enqueue_run,
        publish,
        hub,
        metrics,
        rate_limiter,
        pages,
        clock,
    )
    endpoint = ResponseCachingGraphQL(
        graphql,
        generation=generation,
        persisted=PersistedQueries(settings.redis_url),
        digest=cacheable_digest,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
    )

    async def healthz(_request: Request) -> Response:
        """Alive, with what this process holds (to spot leaks)."""
        return JSONResponse(
            {"status": "ok", "subscribers": len(hub.subscribers), "tasks": len(asyncio.all_tasks())}
        )

    async def readyz(_request: Request) -> Response:
        problems = await readiness_problems(settings, engine)
        if problems:
            return JSONResponse({"status": "unavailable", **problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics_text(_request: Request) -> Response:
        text = await exposition(metrics, hub, graphql.sessions)
        return Response(text, media_type=CONTENT_TYPE)

    middleware: list[Any] = []  # the first listed is the outermost
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    middleware.append(Middleware(GraphQLFirst, endpoint=endpoint))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        if runner is not None and settings.run_feeds:
            runner.start()
        yield
        if runner is not None:
            await runner.stop()
        await hub.stop()
        await rate_limiter.close()
        await cache.close()
        await endpoint.close()
        await engine.dispose()
        sync_engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST", "OPTIONS"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *graphiql_routes,
            Route("/metrics", metrics_text),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.hub = hub
    return app


async def readiness_problems(settings: Settings, engine: AsyncEngine) -> dict[str, str]:
    """What keeps this process from serving: the database unreachable or not at the
    migration head, Redis (where configured) not answering."""
    problems: dict[str, str] = {}
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
        head = head_revision(settings.database_url)
        if current != head:
            problems["database"] = f"at migration {current}, expected {head}: run `llmref migrate`"
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        problems["database"] = str(error)
    if settings.redis_url:
        client = aioredis.Redis.from_url(
            settings.redis_url, socket_timeout=1, socket_connect_timeout=1
        )
        try:
            await client.ping()
        except Exception as error:  # noqa: BLE001
            problems["redis"] = str(error)
        finally:
            await client.aclose()
    return problems
