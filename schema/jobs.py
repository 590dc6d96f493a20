"""The periodic jobs' bodies, shared by the Celery tasks (workers/) and the embedded runner
(api/runner.py). Each is one unit of work; side effects come after its commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.db.base import utcnow
from schema.db.engine import session_scope
from schema.events import Publish
from schema.feeds.fetch import FetchLimits, FetchResult, fetch_feed
from schema.ingest.run_leases import lease_end, renew_lease
from schema.ingest.scheduling import queue_due_runs, stale_runs
from schema.ingest.sync import SourceSpec, finish_run
from schema.models import FeedRun, FeedSource
from schema.services.prices import activate_due_prices, prune_events
from schema.settings import Settings
from schema.tasks import REQUEUE_QUEUED_AFTER_SECONDS, retry_delay

log = logging.getLogger("llmref.jobs")


def http_fetcher(settings: Settings) -> Callable[[SourceSpec], FetchResult]:
    limits = FetchLimits(
        connect_timeout=settings.fetch_connect_timeout_seconds,
        read_timeout=settings.fetch_read_timeout_seconds,
        max_bytes=settings.fetch_max_bytes,
    )

    def fetch(source: SourceSpec) -> FetchResult:
        return fetch_feed(
            source.url, etag=source.etag, last_modified=source.last_modified, limits=limits
        )

    return fetch


def dispatch_due(sessions: sessionmaker[Session], *, now: datetime) -> list[int]:
    """Queue the runs that are due; their ids, to hand to workers after the commit."""
    with session_scope(sessions) as session:
        return queue_due_runs(session, now=now)


def sweep(
    sessions: sessionmaker[Session], settings: Settings, *, publish: Publish, now: datetime
) -> list[int]:
    """Publish events a crash or an outage left unpublished (bumping first), forget
    published events older than the retention, and return the runs to hand out: QUEUED
    ones whose message was lost, and new runs replacing RUNNING ones whose process is gone
    (schema.ingest.scheduling.stale_runs)."""
    publish((), catalog_changed=False)
    with session_scope(sessions) as session:
        prune_events(session, before=now - timedelta(days=settings.event_retention_days))
        return stale_runs(
            session,
            now=now,
            queued_for=timedelta(seconds=REQUEUE_QUEUED_AFTER_SECONDS),
            running_for=timedelta(seconds=settings.task_time_limit_seconds + 30),
        )


def activate_prices(sessions: sessionmaker[Session], *, publish: Publish, now: datetime) -> int:
    """Make future-dated prices current on their date, with events; how many changed."""
    with session_scope(sessions) as session:
        events = activate_due_prices(session, now=now)
        model_ids = {event.model_id for event in events}
    if model_ids:
        publish(model_ids)
    return len(model_ids)


def retry_delay_or_give_up(
    sessions: sessionmaker[Session],
    settings: Settings,
    run_id: int,
    error: Exception,
    *,
    attempt: int,
) -> float | None:
    """After a transient fetch error on attempt ``attempt`` (0 first): the delay before the
    next try, or None once the retries are spent and the run has been ended FAILED. Each
    failure is logged with the feed, the attempt and the reason."""
    with sessions() as session:
        feed = session.scalar(
            select(FeedSource.slug)
            .join(FeedRun, FeedRun.source_id == FeedSource.id)
            .where(FeedRun.id == run_id)
        )
    attempts = settings.fetch_retries + 1
    if attempt < settings.fetch_retries:
        delay = retry_delay(attempt, base=settings.retry_backoff_seconds)
        log.warning(
            "feed %s run %d: fetch attempt %d of %d failed (%s); retrying in %.0f s",
            feed,
            run_id,
            attempt + 1,
            attempts,
            error,
            delay,
        )
        # nobody renews the lease while the retry waits: hold it until the retry is due
        renew_lease(sessions, run_id, until=lease_end(utcnow(), delay + settings.run_lease_seconds))
        return delay
    log.error(
        "feed %s run %d: fetch attempt %d of %d failed (%s); giving up, the run is FAILED",
        feed,
        run_id,
        attempt + 1,
        attempts,
        error,
    )
    finish_run(
        sessions,
        run_id,
        "FAILED",
        now=utcnow(),
        error=f"gave up after {attempt + 1} attempts: {error}",
    )
    return None
