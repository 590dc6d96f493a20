"""indexes for a catalog 100 times the real one (bench/scale.py): the models list's
default order, the rows a feed's ingest reads by source, and the observed prices with a
stated start (another source's scheduled change, read on every ingest)

Revision ID: f7c2a9e4b1d8
Revises: e5b8f1d2c3a4
Create Date: 2026-12-01 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f7c2a9e4b1d8"
down_revision: str | None = "e5b8f1d2c3a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY_SOURCE = (
    ("ix_model_aliases_source", "model_aliases", "source"),
    ("ix_fact_sources_origin", "fact_sources", "origin"),
    ("ix_observed_prices_source", "observed_prices", "source"),
)


def upgrade() -> None:
    op.create_index("ix_llm_models_lower_name_slug", "llm_models", [sa.text("lower(name)"), "slug"])
    for name, table, column in BY_SOURCE:
        op.create_index(name, table, [column])
    op.create_index(
        "ix_observed_prices_scheduled",
        "observed_prices",
        ["offering_id"],
        postgresql_where=sa.text("stated_from IS NOT NULL"),
        sqlite_where=sa.text("stated_from IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_observed_prices_scheduled", table_name="observed_prices")
    for name, table, _column in reversed(BY_SOURCE):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_llm_models_lower_name_slug", table_name="llm_models")
