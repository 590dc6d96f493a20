"""Engines and sessions. One URL in the settings; the sync and async drivers are derived from it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.set(drivername=drivers[backend]).render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    return _with_driver(url, _SYNC_DRIVERS)


def async_url(url: str) -> str:
    return _with_driver(url, _ASYNC_DRIVERS)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


_POSTGRES_UTC = {"options": "-c TimeZone=UTC"}
"""Sessions in UTC: psycopg returns timestamptz values in datetime.UTC, which
UTCDateTime then passes through as they are."""


def make_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(sync_url(url), pool_pre_ping=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(sync_url(url), pool_pre_ping=True, connect_args=_POSTGRES_UTC)


def make_async_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> AsyncEngine:
    """``pool_size`` and ``max_overflow`` size PostgreSQL's connection pool (SQLite's is
    SQLAlchemy's default); the defaults are SQLAlchemy's, the API's come from its settings."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(async_url(url), pool_pre_ping=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        async_url(url),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args=_POSTGRES_UTC,
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def make_async_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The unit of work: commit on success, roll back on any error. Services never commit."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
