"""data dates: when each price and fact is stated as of, and last confirmed

Revision ID: d4a7e0c1b2f3
Revises: c95c261df637
Create Date: 2026-12-01 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import schema.db.types

revision: str = "d4a7e0c1b2f3"
down_revision: str | None = "c95c261df637"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "observed_prices": ("stated_at", "confirmed_at"),
    "prices": ("stated_at", "confirmed_at"),
    "fact_sources": ("stated_at",),
}


def upgrade() -> None:
    for table, names in COLUMNS.items():
        for name in names:
            op.add_column(table, sa.Column(name, schema.db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    for table, names in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name in reversed(names):
                batch.drop_column(name)
