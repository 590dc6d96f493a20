"""run_feed: one feed run, from the snapshot's bytes to the catalog, all or nothing.

Each run is recorded (FeedRun) with its counts or its error. The apply is one
transaction; a run that fails changes nothing but its own FeedRun row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.db.engine import session_scope
from schema.feeds.apply import ApplyReport, apply_snapshot
from schema.feeds.parse import parse_snapshot
from schema.feeds.records import SnapshotError
from schema.models import FeedRun, FeedSource


class UnknownFeedSource(LookupError):
    pass


@dataclass(frozen=True)
class RunOutcome:
    run_id: int
    status: str
    report: ApplyReport | None = None
    error: str | None = None


def queue_run(session: Session, source_slug: str, *, now: datetime) -> FeedRun:
    source = session.scalars(select(FeedSource).where(FeedSource.slug == source_slug)).one_or_none()
    if source is None:
        known = ", ".join(session.scalars(select(FeedSource.slug).order_by(FeedSource.slug)))
        raise UnknownFeedSource(f"unknown feed source {source_slug!r} (known: {known})")
    run = FeedRun(source_id=source.id, status="QUEUED", queued_at=now)
    session.add(run)
    session.flush()
    return run


def run_feed(
    sessions: sessionmaker[Session],
    run_id: int,
    *,
    fetch: Callable[[FeedSource], bytes],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RunOutcome:
    """Fetch, skip unchanged content by checksum, parse, apply; record the outcome."""
    with session_scope(sessions) as session:
        run = session.get_one(FeedRun, run_id)
        source = session.get_one(FeedSource, run.source_id)
        run.status, run.started_at = "RUNNING", now()
    try:
        raw = fetch(source)
        checksum = hashlib.sha256(raw).hexdigest()
        if checksum == source.checksum:
            return _finish(sessions, run_id, "UNCHANGED", now=now(), checksum=checksum)
        snapshot = parse_snapshot(source.kind, raw, as_of=now())
        with session_scope(sessions) as session:
            applied_at = now()
            report = apply_snapshot(
                session, snapshot, source=source.slug, now=applied_at, run_id=run_id
            )
            run = session.get_one(FeedRun, run_id)
            for name in ("seen", "added", "changed", "removed", "unmatched", "invalid"):
                setattr(run, name, getattr(report, name))
            run.error = "\n".join(item.describe(source.slug) for item in snapshot.invalid) or None
            run.status, run.finished_at, run.checksum = "SUCCEEDED", now(), checksum
            session.get_one(FeedSource, source.id).checksum = checksum
        return RunOutcome(run_id, "SUCCEEDED", report=report)
    except (SnapshotError, OSError) as error:
        return _finish(sessions, run_id, "FAILED", now=now(), error=str(error))
    except Exception as error:
        _finish(sessions, run_id, "FAILED", now=now(), error=f"{type(error).__name__}: {error}")
        raise


def _finish(
    sessions: sessionmaker[Session],
    run_id: int,
    status: str,
    *,
    now: datetime,
    checksum: str | None = None,
    error: str | None = None,
) -> RunOutcome:
    with session_scope(sessions) as session:
        run = session.get_one(FeedRun, run_id)
        run.status, run.finished_at, run.checksum, run.error = status, now, checksum, error
    return RunOutcome(run_id, status, error=error)
