"""Test fixtures: real databases (a fresh SQLite file and a fresh PostgreSQL database per run),
built by running the migrations, and the app served in-process or by a real uvicorn."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

import schema.models  # noqa: F401
from schema.db.base import Base
from schema.db.engine import make_engine, make_sessionmaker
from schema.feeds.sources import KNOWN_FEEDS
from schema.migrations import upgrade
from schema.models import FeedSource
from schema.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get(
    "LLMREF_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _create_postgres_database() -> tuple[str, str]:
    name = f"llmref_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(name: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole run."""
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'llmref.db'}"
    pg_name, pg_url = _create_postgres_database()
    urls = {"sqlite": sqlite_url, "postgresql": pg_url}
    for url in urls.values():
        upgrade(url)
    yield urls
    _drop_postgres_database(pg_name)


def _empty_all_tables(engine: Engine) -> None:
    """Back to the state the migrations leave: no rows but the seeded feed sources."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        connection.execute(
            FeedSource.__table__.insert(),
            [
                {
                    "slug": f.slug,
                    "kind": f.kind,
                    "url": f.url,
                    "interval_seconds": 3600,
                    "enabled": True,
                    "created_at": datetime.now(UTC),
                }
                for f in KNOWN_FEEDS
            ],
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    """An empty, migrated database on each backend in turn."""
    url = database_urls[request.param]
    engine = make_engine(url)
    _empty_all_tables(engine)
    engine.dispose()
    return url


@pytest.fixture
def empty_postgres_url(database_urls: dict[str, str]) -> str:
    engine = make_engine(database_urls["postgresql"])
    _empty_all_tables(engine)
    engine.dispose()
    return database_urls["postgresql"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, run_feeds=False, event_poll_seconds=3600)


@contextlib.asynccontextmanager
async def asgi_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process over ASGI (real database, no server)."""
    from api.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://llmref.test") as http:
            yield http


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(settings) as http:
        yield http


def app_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for an in-process app: no feed runs, no event polling."""
    return Settings(
        database_url=database_url,
        run_feeds=False,
        event_poll_seconds=3600,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
async def sqlite_client(database_urls: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the SQLite database, for behaviour that does not depend on the data."""
    async with asgi_client(app_settings(database_urls["sqlite"])) as http:
        yield http


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, object] | None = None
) -> dict[str, object]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()


PROJECT_ROOT = Path(__file__).resolve().parent.parent
