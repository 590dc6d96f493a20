"""Migrations: one head, upgrade from empty on both databases, no drift from the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

import schema.models  # noqa: F401
from schema.db.base import Base
from schema.migrations import alembic_config, current_revision, head_revision


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
