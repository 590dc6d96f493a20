"""creator facts and borrowed tiers: whether a fact claim is the creator's own listing;
which source states a resolved price's tiers; the precision of model dates

Revision ID: e5b8f1d2c3a4
Revises: d4a7e0c1b2f3
Create Date: 2026-12-01 03:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5b8f1d2c3a4"
down_revision: str | None = "d4a7e0c1b2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRECISIONS = ("released_on_precision", "knowledge_cutoff_precision")


def upgrade() -> None:
    op.add_column(
        "fact_sources",
        sa.Column("from_creator", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("prices", sa.Column("tiers_source", sa.String(length=100), nullable=True))
    for name in PRECISIONS:
        op.add_column("llm_models", sa.Column(name, sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("llm_models") as batch:
        for name in reversed(PRECISIONS):
            batch.drop_column(name)
    with op.batch_alter_table("prices") as batch:
        batch.drop_column("tiers_source")
    with op.batch_alter_table("fact_sources") as batch:
        batch.drop_column("from_creator")
