"""One engine per worker process, made after the fork (never shared across processes)."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from schema.db.engine import make_engine, make_sessionmaker
from schema.settings import Settings


@cache
def settings() -> Settings:
    return Settings()


@cache
def sessions() -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(settings().database_url))
