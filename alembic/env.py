"""Alembic environment: migrates the database named by the config or by LLMREF_DATABASE_URL."""

from __future__ import annotations

from alembic import context

import schema.models  # noqa: F401  (registers every table)
from schema.db.base import Base
from schema.db.engine import make_engine
from schema.settings import Settings

config = context.config
url = config.get_main_option("llmref.database_url") or Settings().database_url


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
