"""The catalog's source priority, read from its feed sources (kind and rank override)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from schema.domain.prices import FeedRank, SourcePriority, kind_rank
from schema.models import FeedSource


def effective_rank(kind: str, rank: int | None) -> int:
    """A feed source's rank: the one set on it, else its kind's."""
    return kind_rank(kind) if rank is None else rank


def load_source_priority(session: Session) -> SourcePriority:
    rows = session.execute(select(FeedSource.slug, FeedSource.kind, FeedSource.rank))
    return SourcePriority(
        {slug: FeedRank(kind, effective_rank(kind, rank)) for slug, kind, rank in rows}
    )
