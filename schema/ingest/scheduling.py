"""What is due: the database decides, so a second scheduler by mistake is harmless.

Beat only ticks. Each tick locks the enabled sources that are due (FOR UPDATE SKIP
LOCKED), moves their next due time on, and queues one run each; the partial unique index
on feed_runs keeps a source to one QUEUED or RUNNING run however many ticks race.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schema.ingest.run_leases import end_abandoned, lease_lost
from schema.models import FeedRun, FeedSource
from schema.models.feeds import OPEN_RUN_STATUSES


class UnknownFeedSource(LookupError):
    pass


def open_run(session: Session, source_id: int) -> FeedRun | None:
    return session.scalars(
        select(FeedRun).where(FeedRun.source_id == source_id, FeedRun.status.in_(OPEN_RUN_STATUSES))
    ).one_or_none()


def queue_run_for(session: Session, source: FeedSource, *, now: datetime) -> tuple[FeedRun, bool]:
    """The source's open run if it has one, else a new QUEUED run; True when new. An open
    run whose process is gone (its lease has passed) is ended FAILED and replaced."""
    existing = open_run(session, source.id)
    if existing is not None and lease_lost(existing, now):
        end_abandoned(existing, now)
        session.flush()
        existing = None
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            run = FeedRun(source_id=source.id, status="QUEUED", queued_at=now)
            session.add(run)
    except IntegrityError:  # another scheduler or request queued one first
        raced = open_run(session, source.id)
        assert raced is not None
        return raced, False
    return run, True


def queue_run(session: Session, source_slug: str, *, now: datetime) -> tuple[FeedRun, bool]:
    source = session.scalars(select(FeedSource).where(FeedSource.slug == source_slug)).one_or_none()
    if source is None:
        known = ", ".join(session.scalars(select(FeedSource.slug).order_by(FeedSource.slug)))
        raise UnknownFeedSource(f"unknown feed source {source_slug!r} (known: {known})")
    return queue_run_for(session, source, now=now)


def queue_due_runs(session: Session, *, now: datetime) -> list[int]:
    """Queue a run for every enabled source that is due; the ids of the runs queued."""
    due = session.scalars(
        select(FeedSource)
        .where(
            FeedSource.enabled, or_(FeedSource.next_due_at.is_(None), FeedSource.next_due_at <= now)
        )
        .order_by(FeedSource.id)
        .with_for_update(skip_locked=True)
    ).all()
    queued = []
    for source in due:
        source.next_due_at = now + timedelta(seconds=source.interval_seconds)
        run, created = queue_run_for(session, source, now=now)
        if created:
            queued.append(run.id)
    session.flush()
    return queued


def stale_runs(
    session: Session, *, now: datetime, queued_for: timedelta, running_for: timedelta
) -> list[int]:
    """Runs to hand to a worker again: QUEUED too long (the message was lost; handed out
    again as they are) and RUNNING ones whose process is gone, ended FAILED and replaced by
    a new run: those whose lease has passed, and those without a lease (claimed before
    leases existed) past ``running_for``."""
    queued = session.scalars(
        select(FeedRun).where(FeedRun.status == "QUEUED", FeedRun.queued_at <= now - queued_for)
    ).all()
    for run in queued:  # handed out again now, not again at the next sweep
        run.queued_at = now
    abandoned = session.scalars(
        select(FeedRun)
        .where(
            FeedRun.status == "RUNNING",
            or_(
                FeedRun.lease_expires_at <= now,
                and_(FeedRun.lease_expires_at.is_(None), FeedRun.started_at <= now - running_for),
            ),
        )
        .with_for_update(skip_locked=True)
    ).all()
    replacements = []
    for run in abandoned:
        end_abandoned(run, now)
        session.flush()
        replacement, created = queue_run_for(
            session, session.get_one(FeedSource, run.source_id), now=now
        )
        if created:
            replacements.append(replacement)
    session.flush()
    return sorted(run.id for run in [*queued, *replacements])


def postpone_all(session: Session, *, now: datetime) -> None:
    """After the offline catalog is loaded, each source is next due one interval later:
    the bundled snapshot counts as its first run."""
    for source in session.scalars(select(FeedSource)):
        source.next_due_at = now + timedelta(seconds=source.interval_seconds)
