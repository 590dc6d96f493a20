"""seed the five public feed sources

Revision ID: c9787d2b9fa0
Revises: 3655386535e4
Create Date: 2026-11-29 08:53:38.767259
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import schema.db.types

revision: str = "c9787d2b9fa0"
down_revision: str | None = "3655386535e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FEEDS = [
    ("models.dev", "models.dev", "https://models.dev/api.json"),
    ("openrouter", "openrouter", "https://openrouter.ai/api/v1/models"),
    (
        "litellm",
        "litellm",
        "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",
    ),
    (
        "genai-prices",
        "genai-prices",
        "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json",
    ),
    ("llm-prices", "llm-prices", "https://www.llm-prices.com/current-v1.json"),
]


def upgrade() -> None:
    feed_sources = sa.table(
        "feed_sources",
        sa.column("slug", sa.String),
        sa.column("kind", sa.String),
        sa.column("url", sa.String),
        sa.column("interval_seconds", sa.Integer),
        sa.column("enabled", sa.Boolean),
        sa.column("created_at", schema.db.types.UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        feed_sources,
        [
            {
                "slug": slug,
                "kind": kind,
                "url": url,
                "interval_seconds": 3600,
                "enabled": True,
                "created_at": now,
            }
            for slug, kind, url in FEEDS
        ],
    )


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM feed_sources WHERE slug IN :slugs").bindparams(
            sa.bindparam("slugs", [slug for slug, _, _ in FEEDS], expanding=True)
        )
    )
