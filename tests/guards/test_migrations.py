"""Migrations: one head, upgrade from empty on both databases, no drift from the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

import schema.models  # noqa: F401
from schema.db.base import Base
from schema.db.engine import make_engine
from schema.feeds.sources import KNOWN_FEEDS
from schema.migrations import alembic_config, current_revision, head_revision, upgrade
from schema.models import FeedSource


def test_there_is_a_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_upgrade_from_empty_reaches_head_with_every_table(
    engine: Engine, database_url: str
) -> None:
    # the database fixture was built by running every migration from an empty database
    assert current_revision(engine) == head_revision(database_url)
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migrations_seed_the_known_feeds(tmp_path: Path) -> None:
    # the test fixtures re-seed from KNOWN_FEEDS; a fresh upgrade must give the same rows
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(select(FeedSource.slug, FeedSource.kind, FeedSource.url)).all()
    engine.dispose()
    assert sorted(rows) == sorted((f.slug, f.kind, f.url) for f in KNOWN_FEEDS)
