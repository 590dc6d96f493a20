"""A RUNNING run whose process is gone is reclaimed once its lease passes; a run whose
process lives keeps its lease however long it works. Real processes, both databases."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.db.base import utcnow
from schema.db.engine import session_scope
from schema.ingest.scheduling import queue_run, stale_runs
from schema.models import FeedRun, FeedSource
from tests.conftest import PROJECT_ROOT

LEASE_SECONDS = 1.0
HUNG_RUN = """
import sys, time
from schema.db.engine import make_engine, make_sessionmaker
from schema.ingest.sync import run_feed

def hang(source):
    print("fetching", flush=True)
    time.sleep(3600)

url, run_id, lease = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
run_feed(make_sessionmaker(make_engine(url)), run_id, fetch=hang, lease_seconds=lease)
"""


def _resync(sessions: sessionmaker[Session]) -> tuple[int, str, bool]:
    with session_scope(sessions) as session:
        run, created = queue_run(session, "litellm", now=utcnow())
        return run.id, run.status, created


def _run(sessions: sessionmaker[Session], run_id: int) -> FeedRun:
    with sessions() as session:
        return session.get_one(FeedRun, run_id)


def test_a_run_is_kept_while_its_process_works_and_reclaimed_once_it_is_killed(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    run_id, status, created = _resync(sessions)
    assert (status, created) == ("QUEUED", True)
    worker = subprocess.Popen(
        [sys.executable, "-c", HUNG_RUN, database_url, str(run_id), str(LEASE_SECONDS)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "fetching"
        time.sleep(3 * LEASE_SECONDS)  # several lease periods: renewed all along
        assert _resync(sessions) == (run_id, "RUNNING", False)
    finally:
        worker.kill()
        worker.wait(timeout=10)

    deadline = time.monotonic() + 10 * LEASE_SECONDS
    while (resynced := _resync(sessions))[0] == run_id:
        assert time.monotonic() < deadline, "the dead process's run was never reclaimed"
        time.sleep(0.1)
    _new_id, status, created = resynced
    assert (status, created) == ("QUEUED", True)
    old = _run(sessions, run_id)
    assert old.status == "FAILED"
    assert old.error is not None and old.error.startswith("interrupted: the process running it")
    assert old.finished_at is not None


def test_the_sweep_replaces_runs_whose_process_is_gone_and_only_those(
    sessions: sessionmaker[Session],
) -> None:
    now = datetime(2026, 8, 21, 12, tzinfo=UTC)
    running_for = timedelta(seconds=330)
    with session_scope(sessions) as session:
        ids = dict(session.execute(select(FeedSource.slug, FeedSource.id)).all())
        lost = FeedRun(
            source_id=ids["litellm"],
            status="RUNNING",
            started_at=now - timedelta(seconds=40),
            lease_expires_at=now - timedelta(seconds=1),
        )
        alive = FeedRun(
            source_id=ids["openrouter"],
            status="RUNNING",
            started_at=now - timedelta(hours=1),  # long, but its process renews the lease
            lease_expires_at=now + timedelta(seconds=20),
        )
        unleased_old = FeedRun(
            source_id=ids["models.dev"], status="RUNNING", started_at=now - 2 * running_for
        )
        unleased_recent = FeedRun(
            source_id=ids["genai-prices"], status="RUNNING", started_at=now - running_for / 2
        )
        session.add_all([lost, alive, unleased_old, unleased_recent])
        session.flush()
        runs = {
            "lost": lost.id,
            "alive": alive.id,
            "old": unleased_old.id,
            "recent": unleased_recent.id,
        }

    with session_scope(sessions) as session:
        handed_out = stale_runs(
            session, now=now, queued_for=timedelta(seconds=120), running_for=running_for
        )

    assert {name: _run(sessions, run_id).status for name, run_id in runs.items()} == {
        "lost": "FAILED",
        "alive": "RUNNING",
        "old": "FAILED",
        "recent": "RUNNING",
    }
    with sessions() as session:
        new_runs = session.execute(
            select(FeedRun.id, FeedSource.slug, FeedRun.status)
            .join(FeedSource, FeedRun.source_id == FeedSource.id)
            .where(FeedRun.id.in_(handed_out))
            .order_by(FeedSource.slug)
        ).all()
    assert [(slug, status) for _, slug, status in new_runs] == [
        ("litellm", "QUEUED"),
        ("models.dev", "QUEUED"),
    ]
    assert not set(handed_out) & set(runs.values())
