"""Import the curated catalog in one transaction: all of it, or nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from schema.catalog.load import CuratedLoadReport, load_curated
from schema.catalog.spec import read_curated
from schema.db.engine import session_scope
from schema.models import LlmModel, Offering

CURATED_PATH = Path(__file__).with_name("curated.yaml")
log = logging.getLogger("llmref.catalog")


def import_curated(
    sessions: sessionmaker[Session],
    path: Path = CURATED_PATH,
    *,
    now: datetime | None = None,
    after_commit: Callable[[set[int]], None] | None = None,
) -> CuratedLoadReport:
    catalog = read_curated(path)  # validated whole before any write
    with session_scope(sessions) as session:
        report = load_curated(session, catalog, now=now or datetime.now(UTC))
    if after_commit is not None:
        try:
            after_commit(report.model_ids)
        except Exception:  # the outbox rows stay; the sweep publishes them
            log.exception("publishing the curated import failed after commit; the sweep will retry")
    return report


def catalog_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(LlmModel))


def catalog_size(session: Session) -> tuple[int, int]:
    """(models, offerings) in the catalog."""
    return (
        session.scalar(select(func.count()).select_from(LlmModel)) or 0,
        session.scalar(select(func.count()).select_from(Offering)) or 0,
    )
