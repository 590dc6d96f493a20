"""An offline catalog imported once per test module and backend, copied for each test (a
SQLite backup, a PostgreSQL template database), so every test starts from the same one."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from feed_helpers import build_offline_catalog
from sqlalchemy import create_engine, text

from tests.conftest import (
    POSTGRES_ADMIN_URL,
    _create_postgres_database,
    _drop_postgres_database,
)


@dataclass
class OfflineCatalog:
    """An imported offline catalog to copy from (never used directly by a test)."""

    backend: str
    url: str
    workdir: Path
    copies: list[str] = field(default_factory=list)

    def copy(self) -> str:
        if self.backend == "sqlite":
            target = self.workdir / f"copy-{uuid.uuid4().hex[:8]}.db"
            source = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            copy = sqlite3.connect(target)
            source.backup(copy)
            copy.close()
            source.close()
            return f"sqlite:///{target}"
        template = self.url.rsplit("/", 1)[1]
        name = f"{template}_{len(self.copies)}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        admin.dispose()
        self.copies.append(name)
        return self.url.rsplit("/", 1)[0] + f"/{name}"


def imported_catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, at: datetime
) -> Iterator[OfflineCatalog]:
    """The curated file and the five bundled feeds imported with the clock at ``at``, on
    the backend ``request.param`` names; its copies are dropped afterwards."""
    workdir = tmp_path_factory.mktemp("offline")
    if request.param == "sqlite":
        pg_name, url = None, f"sqlite:///{workdir / 'offline.db'}"
    else:
        pg_name, url = _create_postgres_database()
    catalog = OfflineCatalog(request.param, url, workdir)
    try:
        build_offline_catalog(url, at)
        yield catalog
    finally:
        for name in [*catalog.copies, *([pg_name] if pg_name else [])]:
            _drop_postgres_database(name)
