"""One process at a time sets a database up (migrates it, loads the offline catalog).

Several API replicas starting on an empty database would each migrate it and load the
catalog at once. Whoever holds this lock does it; the others wait for the lock, then find
the database at its head and the catalog loaded, and go on. PostgreSQL: a session-level
advisory lock on its own connection. SQLite: an exclusive flock on a file beside the
database file (SQLite's own locks are POSIX record locks, which flock does not touch).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from schema.db.engine import sync_url

SETUP_LOCK_KEY = 7_426_002
"""pg_advisory_lock key (the event-id lock is 7_426_001)."""
LOCK_FILE_SUFFIX = ".setup-lock"


@contextmanager
def database_setup_lock(database_url: str) -> Iterator[None]:
    url = make_url(sync_url(database_url))
    if url.get_backend_name() == "postgresql":
        engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SETUP_LOCK_KEY})
                try:
                    yield
                finally:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": SETUP_LOCK_KEY}
                    )
        finally:
            engine.dispose()
    elif url.database and url.database != ":memory:":
        with Path(url.database + LOCK_FILE_SUFFIX).open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
    else:  # an in-memory database belongs to one process
        yield
