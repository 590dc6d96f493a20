"""run_feed: one feed run, from fetching the snapshot to the catalog, all or nothing.

The task body shared by the Celery worker and the embedded runner. A run is claimed
(QUEUED -> RUNNING; a RUNNING run is claimed again when its task is redelivered), fetched,
skipped as UNCHANGED when the server says 304 or the bytes' checksum equals the last
applied snapshot's, parsed, and applied in one transaction that first locks the run row
and checks it is still RUNNING, so a snapshot is applied at most once however often the
task is delivered. Transient fetch errors propagate (the task retries them); every other
failure ends the run FAILED with the reason, and changes nothing else.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.db.base import utcnow
from schema.db.engine import session_scope
from schema.domain.prices import DEFAULT_IMPLAUSIBLE_FACTOR
from schema.feeds.fetch import FetchError, FetchResult, TransientFetchError
from schema.feeds.parse import parse_snapshot
from schema.feeds.records import SnapshotError
from schema.ingest.apply import ApplyReport, apply_snapshot
from schema.ingest.run_leases import lease_end, lease_kept
from schema.models import FeedRun, FeedSource
from schema.tasks import DEFAULT_RUN_LEASE_SECONDS

log = logging.getLogger("llmref.sync")

FINISHED = ("SUCCEEDED", "UNCHANGED", "FAILED")
COUNTS = ("seen", "added", "changed", "removed", "unmatched", "invalid", "held")


@dataclass(frozen=True)
class SourceSpec:
    """What a fetch needs to know of a feed source, detached from any session."""

    id: int
    slug: str
    kind: str
    url: str
    etag: str | None
    last_modified: str | None
    checksum: str | None


@dataclass(frozen=True)
class RunOutcome:
    run_id: int
    status: str
    report: ApplyReport | None = None
    error: str | None = None


Fetch = Callable[[SourceSpec], FetchResult]
AfterCommit = Callable[[set[int]], None]
"""Called with the ids of the models whose routes or prices changed, after the commit."""


def run_feed(
    sessions: sessionmaker[Session],
    run_id: int,
    *,
    fetch: Fetch,
    now: Callable[[], datetime] = utcnow,
    after_commit: AfterCommit | None = None,
    implausible_factor: Decimal = DEFAULT_IMPLAUSIBLE_FACTOR,
    lease_seconds: float = DEFAULT_RUN_LEASE_SECONDS,
) -> RunOutcome:
    """Run one queued feed run. ``after_commit`` runs once the apply committed (publish the
    events, bump cache generations); its failure is logged and left to the sweep. While
    it works, this process keeps renewing the run's lease (schema/ingest/run_leases.py)."""
    claimed = _claim(sessions, run_id, now(), lease_seconds)
    if isinstance(claimed, RunOutcome):
        return claimed
    with lease_kept(sessions, run_id, seconds=lease_seconds, now=now):
        return _fetch_and_apply(
            sessions,
            run_id,
            claimed,
            fetch=fetch,
            now=now,
            after_commit=after_commit,
            implausible_factor=implausible_factor,
        )


def _fetch_and_apply(
    sessions: sessionmaker[Session],
    run_id: int,
    source: SourceSpec,
    *,
    fetch: Fetch,
    now: Callable[[], datetime],
    after_commit: AfterCommit | None,
    implausible_factor: Decimal,
) -> RunOutcome:
    try:
        result = fetch(source)
    except TransientFetchError:
        raise
    except (FetchError, OSError) as error:
        return finish_run(sessions, run_id, "FAILED", now=now(), error=str(error))
    if result.raw is None:
        return finish_run(sessions, run_id, "UNCHANGED", now=now(), fetched=result)
    checksum = hashlib.sha256(result.raw).hexdigest()
    if checksum == source.checksum:
        return finish_run(
            sessions, run_id, "UNCHANGED", now=now(), fetched=result, checksum=checksum
        )
    try:
        snapshot = parse_snapshot(source.kind, result.raw, as_of=now())
    except SnapshotError as error:
        return finish_run(sessions, run_id, "FAILED", now=now(), error=str(error))
    try:
        with session_scope(sessions) as session:
            run = _locked(session, run_id)
            if run.status != "RUNNING":  # another delivery of this task finished it
                return RunOutcome(run_id, run.status, error=run.error)
            report = apply_snapshot(
                session,
                snapshot,
                source=source.slug,
                now=now(),
                stated_at=result.stated_at,
                run_id=run_id,
                implausible_factor=implausible_factor,
            )
            for name in COUNTS:
                setattr(run, name, getattr(report, name))
            run.error = "\n".join(item.describe(source.slug) for item in snapshot.invalid) or None
            run.status, run.finished_at, run.checksum = "SUCCEEDED", now(), checksum
            _remember(session.get_one(FeedSource, source.id), result, checksum)
    except Exception as error:
        finish_run(sessions, run_id, "FAILED", now=now(), error=f"{type(error).__name__}: {error}")
        raise
    if after_commit is not None:
        try:
            after_commit(report.model_ids)
        except Exception:  # the outbox rows stay; the sweep publishes them
            log.exception("publishing run %d failed after commit; the sweep will retry", run_id)
    return RunOutcome(run_id, "SUCCEEDED", report=report)


def _locked(session: Session, run_id: int) -> FeedRun:
    return session.scalars(select(FeedRun).where(FeedRun.id == run_id).with_for_update()).one()


def _claim(
    sessions: sessionmaker[Session], run_id: int, now: datetime, lease_seconds: float
) -> SourceSpec | RunOutcome:
    with session_scope(sessions) as session:
        run = session.scalars(
            select(FeedRun).where(FeedRun.id == run_id).with_for_update()
        ).one_or_none()
        if run is None:
            return RunOutcome(run_id, "FAILED", error=f"no feed run with id {run_id}")
        if run.status in FINISHED:
            return RunOutcome(run_id, run.status, error=run.error)
        run.status, run.started_at = "RUNNING", now
        run.lease_expires_at = lease_end(now, lease_seconds)
        source = session.get_one(FeedSource, run.source_id)
        return SourceSpec(
            source.id,
            source.slug,
            source.kind,
            source.url,
            source.etag,
            source.last_modified,
            source.checksum,
        )


def _remember(source: FeedSource, fetched: FetchResult, checksum: str | None) -> None:
    source.etag, source.last_modified = fetched.etag, fetched.last_modified
    if checksum is not None:
        source.checksum = checksum


def finish_run(
    sessions: sessionmaker[Session],
    run_id: int,
    status: str,
    *,
    now: datetime,
    error: str | None = None,
    fetched: FetchResult | None = None,
    checksum: str | None = None,
) -> RunOutcome:
    """End a run without applying anything (UNCHANGED or FAILED)."""
    with session_scope(sessions) as session:
        run = _locked(session, run_id)
        if run.status in FINISHED:
            return RunOutcome(run_id, run.status, error=run.error)
        run.status, run.finished_at, run.error = status, now, error
        run.checksum = checksum
        if fetched is not None:
            _remember(session.get_one(FeedSource, run.source_id), fetched, checksum)
    return RunOutcome(run_id, status, error=error)
