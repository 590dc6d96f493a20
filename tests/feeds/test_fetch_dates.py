"""A live poll's data date: the HTTP Last-Modified time, else the time of the fetch; a
snapshot's own timestamp comes first (docs/data.md, "Data dates")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apply_helpers import add_models
from feed_helpers import fixture_bytes
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schema.db.engine import session_scope
from schema.feeds.fetch import FetchResult, http_date
from schema.ingest.scheduling import queue_run
from schema.ingest.sync import run_feed
from schema.models import FactSource, ObservedPrice

FETCHED_AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
MODIFIED = "Wed, 01 Jul 2026 12:00:00 GMT"


def test_http_dates_are_read_as_aware_utc() -> None:
    assert http_date(MODIFIED) == datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert http_date("yesterday") is None
    assert http_date(None) is None


def _poll(sessions: sessionmaker[Session], slug: str, result: FetchResult) -> None:
    with session_scope(sessions) as session:
        run, _ = queue_run(session, slug, now=FETCHED_AT)
    outcome = run_feed(sessions, run.id, fetch=lambda source: result, now=lambda: FETCHED_AT)
    assert outcome.status == "SUCCEEDED", outcome


def _dates(sessions: sessionmaker[Session]) -> tuple[set[datetime | None], set[datetime | None]]:
    with sessions() as session:
        prices = set(session.scalars(select(ObservedPrice.stated_at)))
        facts = set(session.scalars(select(FactSource.stated_at)))
    return prices, facts


def test_a_poll_is_dated_by_last_modified(sessions: sessionmaker[Session]) -> None:
    raw = fixture_bytes("models.dev", "api.json")  # models.dev states no date of its own
    _poll(sessions, "models.dev", FetchResult(raw, None, MODIFIED, http_date(MODIFIED)))
    july_1 = datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert _dates(sessions) == ({july_1}, {july_1})


def test_a_poll_without_dates_is_dated_by_the_fetch(sessions: sessionmaker[Session]) -> None:
    raw = fixture_bytes("models.dev", "api.json")
    _poll(sessions, "models.dev", FetchResult(raw, None, None))
    assert _dates(sessions) == ({FETCHED_AT}, {FETCHED_AT})


def test_the_snapshot_own_timestamp_comes_first(sessions: sessionmaker[Session]) -> None:
    raw = fixture_bytes("litellm", "2026-07-01_f32e5ff0.json")  # last_updated 01:56:47
    with session_scope(sessions) as session:
        add_models(session, "claude-sonnet-5")
    modified = http_date(MODIFIED)
    assert modified is not None
    _poll(sessions, "litellm", FetchResult(raw, None, MODIFIED, modified + timedelta(days=9)))
    prices, _ = _dates(sessions)
    assert prices == {datetime(2026, 7, 1, 1, 56, 47, 101857, tzinfo=UTC)}
