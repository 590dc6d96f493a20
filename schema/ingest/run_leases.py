"""Leases on RUNNING feed runs, so that a run whose process is gone is reclaimed promptly.

The process running a run holds a lease on it (``feed_runs.lease_expires_at``), taken when
it claims the run and renewed by a background thread a few times per lease period while
the run works, and stretched over a retry's wait. A RUNNING run whose lease has passed
lost its process (killed, crashed, restarted): a re-sync or the sweep ends it FAILED with
the reason and queues a new run. The apply step re-checks that its run is still RUNNING
under a row lock, so a process that comes back late cannot apply over a reclaimed run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from schema.db.engine import session_scope
from schema.models import FeedRun

log = logging.getLogger("llmref.leases")

RENEWALS_PER_LEASE = 3


def lease_end(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


def renew_lease(sessions: sessionmaker[Session], run_id: int, *, until: datetime) -> None:
    """Extend the lease of a run that is still RUNNING (a finished run is left alone)."""
    with session_scope(sessions) as session:
        session.execute(
            update(FeedRun)
            .where(FeedRun.id == run_id, FeedRun.status == "RUNNING")
            .values(lease_expires_at=until)
        )


@contextmanager
def lease_kept(
    sessions: sessionmaker[Session], run_id: int, *, seconds: float, now: Callable[[], datetime]
) -> Iterator[None]:
    """Renew the run's lease from a background thread while the block runs."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(seconds / RENEWALS_PER_LEASE):
            try:
                renew_lease(sessions, run_id, until=lease_end(now(), seconds))
            except Exception:  # e.g. SQLite busy during the apply; try again
                log.warning("could not renew the lease of run %d", run_id, exc_info=True)

    thread = threading.Thread(target=renew, name=f"llmref-lease-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def lease_lost(run: FeedRun, now: datetime) -> bool:
    """A RUNNING run whose process no longer renews its lease."""
    return (
        run.status == "RUNNING" and run.lease_expires_at is not None and run.lease_expires_at <= now
    )


def end_abandoned(run: FeedRun, now: datetime) -> None:
    """End a run whose process is gone (its caller queues a new one)."""
    since = run.lease_expires_at or run.started_at
    run.status, run.finished_at = "FAILED", now
    run.error = (
        "interrupted: the process running it stopped (no lease renewal since "
        f"{since.isoformat() if since else 'its start'}); a new run was queued"
    )
