"""Import snapshots from files: the bundled offline catalog, or one file on demand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from schema.db.base import utcnow
from schema.db.engine import session_scope
from schema.feeds.fetch import FetchResult
from schema.feeds.sources import KNOWN_FEEDS, bundled_path, read_snapshot_file
from schema.ingest.scheduling import queue_run
from schema.ingest.sync import AfterCommit, RunOutcome, run_feed


class RunAlreadyOpen(RuntimeError):
    """The source already has a QUEUED or RUNNING run."""


def import_snapshot_file(
    sessions: sessionmaker[Session],
    source_slug: str,
    path: Path | None = None,
    *,
    now: Callable[[], datetime] | None = None,
    after_commit: AfterCommit | None = None,
) -> RunOutcome:
    """One run of ``source_slug`` on a file (default: its bundled snapshot)."""
    clock = now or utcnow
    with session_scope(sessions) as session:
        run, created = queue_run(session, source_slug, now=clock())
        if not created:
            raise RunAlreadyOpen(
                f"{source_slug}: run {run.id} is already {run.status.lower()}; "
                "wait for it to finish (or for the sweep to reclaim it) and try again"
            )
    return run_feed(
        sessions,
        run.id,
        fetch=lambda source: FetchResult(
            read_snapshot_file(path or bundled_path(source.kind)), None, None
        ),
        now=clock,
        after_commit=after_commit,
    )


def import_offline_catalog(
    sessions: sessionmaker[Session],
    *,
    on_feed: Callable[[str], None] = lambda slug: None,
    on_imported: Callable[[RunOutcome], None] = lambda outcome: None,
    now: Callable[[], datetime] | None = None,
    after_commit: AfterCommit | None = None,
) -> list[RunOutcome]:
    """Every bundled feed, the feeds that create models first (``now``: the clock, as for
    ``import_snapshot_file``); ``on_feed`` is told when a feed starts, ``on_imported`` when
    it is done."""
    outcomes = []
    for feed in KNOWN_FEEDS:
        on_feed(feed.slug)
        outcomes.append(
            import_snapshot_file(sessions, feed.slug, now=now, after_commit=after_commit)
        )
        on_imported(outcomes[-1])
    return outcomes
