"""Times read from the database are UTC-aware (datetime.UTC) on both backends, whatever
zone they were written in and whatever the PostgreSQL session's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from schema.db.engine import make_async_engine, make_engine, sync_url
from schema.models import ApiKey

WRITTEN = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))


def _add_key(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            ApiKey.__table__.insert(),
            {"name": "k", "role": "admin", "prefix": "p", "key_hash": "h", "created_at": WRITTEN},
        )


def _read(engine: Engine) -> datetime:
    with engine.connect() as connection:
        return connection.execute(select(ApiKey.created_at)).scalar_one()


async def test_times_read_back_in_utc(database_url: str) -> None:
    engine = make_engine(database_url)
    _add_key(engine)
    read = _read(engine)
    engine.dispose()
    async_engine = make_async_engine(database_url)
    async with AsyncSession(async_engine) as session:
        through_the_orm = (await session.scalars(select(ApiKey))).one().created_at
    await async_engine.dispose()
    for value in (read, through_the_orm):
        assert value == WRITTEN and value.tzinfo is UTC


def test_the_engines_postgresql_sessions_run_in_utc(empty_postgres_url: str) -> None:
    engine = make_engine(empty_postgres_url)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW TimeZone")).scalar_one() == "UTC"
    _add_key(engine)
    engine.dispose()
    elsewhere = create_engine(
        sync_url(empty_postgres_url), connect_args={"options": "-c TimeZone=Asia/Kolkata"}
    )
    read = _read(elsewhere)  # a session in another zone: still UTC
    elsewhere.dispose()
    assert read == WRITTEN and read.tzinfo is UTC
