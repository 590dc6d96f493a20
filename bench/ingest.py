"""Time the offline import, feed by feed, and re-imports of each feed's snapshot.

Usage: .venv/bin/python bench/ingest.py [--database-url URL] [--repeat N]

Without --database-url it creates (and drops) a fresh PostgreSQL database on
127.0.0.1:5432 as user postgres. Each feed's full import runs once on the catalog built
so far (curated file, then the feeds in KNOWN_FEEDS order); each re-import of the same
bytes runs --repeat times and reports the median; then the same records in other bytes
(the snapshot with a newline added, as when a feed republishes with a new timestamp) are
imported once: parsed and applied, changing nothing. "cpu s" is this process's CPU time
for the full import (the database's is not in it): on a shared machine it moves less
than the wall time. Targets (issue 3): a full feed applies in under 2 s, an unchanged
snapshot is recognized in under 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from schema.catalog.importer import import_curated
from schema.db.engine import make_engine, make_sessionmaker
from schema.feeds.sources import KNOWN_FEEDS, bundled_path, read_snapshot_file
from schema.ingest.offline import import_snapshot_file
from schema.migrations import upgrade
from schema.models import OfferingListing, UnmatchedName

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_postgres() -> Iterator[str]:
    name = f"llmref_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def import_same_records(sessions: sessionmaker[Session], kind: str, slug: str) -> float:
    """Seconds to import the feed's bundled snapshot in new bytes (a newline added)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "snapshot.json"
        path.write_bytes(read_snapshot_file(bundled_path(kind)) + b"\n")
        started = time.perf_counter()
        outcome = import_snapshot_file(sessions, slug, path)
        seconds = time.perf_counter() - started
    assert outcome.report is not None and not outcome.report.events, outcome
    return seconds


def run(database_url: str, repeat: int) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    import_curated(sessions)
    print(
        f"{'feed':<14}{'records':>9}{'full s':>9}{'cpu s':>7}{'unchanged s':>13}{'same rec. s':>13}"
        f"{'offerings':>11}{'unmatched':>11}{'invalid':>9}"
    )
    for feed in KNOWN_FEEDS:
        started, cpu = time.perf_counter(), time.process_time()
        outcome = import_snapshot_file(sessions, feed.slug)
        full, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert outcome.report is not None, outcome
        again = []
        for _ in range(repeat):
            started = time.perf_counter()
            unchanged = import_snapshot_file(sessions, feed.slug)
            again.append(time.perf_counter() - started)
            assert unchanged.status == "UNCHANGED", unchanged
        same = import_same_records(sessions, feed.kind, feed.slug)
        with sessions() as session:
            listed = session.scalar(
                select(func.count())
                .select_from(OfferingListing)
                .where(OfferingListing.source == feed.slug)
            )
            unmatched = session.scalar(
                select(func.count())
                .select_from(UnmatchedName)
                .where(UnmatchedName.source == feed.slug)
            )
        report = outcome.report
        print(
            f"{feed.slug:<14}{report.seen:>9}{full:>9.2f}{cpu:>7.2f}{statistics.median(again):>13.3f}"
            f"{same:>13.2f}{listed:>11}{unmatched:>11}{report.invalid:>9}"
        )
    with sessions() as session:
        models = session.scalar(text("SELECT count(*) FROM llm_models"))
        offerings = session.scalar(text("SELECT count(*) FROM offerings"))
    print(f"catalog: {models} models, {offerings} offerings")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.database_url:
        run(args.database_url, args.repeat)
        return
    with scratch_postgres() as url:
        run(url, args.repeat)


if __name__ == "__main__":
    main()
