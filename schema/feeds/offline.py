"""Import snapshots from files: the bundled offline catalog, or one file on demand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from schema.db.engine import session_scope
from schema.feeds.sources import KNOWN_FEEDS, bundled_path, read_snapshot_file
from schema.sync import RunOutcome, queue_run, run_feed


def import_snapshot_file(
    sessions: sessionmaker[Session],
    source_slug: str,
    path: Path | None = None,
    *,
    now: Callable[[], datetime] | None = None,
) -> RunOutcome:
    """One run of ``source_slug`` on a file (default: its bundled snapshot)."""
    clock = now or _utcnow
    with session_scope(sessions) as session:
        run_id = queue_run(session, source_slug, now=clock()).id
    return run_feed(
        sessions,
        run_id,
        fetch=lambda source: read_snapshot_file(path or bundled_path(source.kind)),
        now=clock,
    )


def import_offline_catalog(
    sessions: sessionmaker[Session],
    *,
    on_feed: Callable[[str], None] = lambda slug: None,
) -> list[RunOutcome]:
    """Every bundled feed, the feeds that create models first."""
    outcomes = []
    for feed in KNOWN_FEEDS:
        on_feed(feed.slug)
        outcomes.append(import_snapshot_file(sessions, feed.slug))
    return outcomes


def _utcnow() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
