"""Feed sources: list, add, enable, disable. Services never commit; the caller's unit of
work does. Invalid input raises FeedSourceError before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schema.domain.slugs import is_slug
from schema.feeds.adapters import ADAPTERS
from schema.ingest.scheduling import UnknownFeedSource
from schema.models import FeedRun, FeedSource

MIN_INTERVAL_SECONDS = 60
DEFAULT_INTERVAL_SECONDS = 3600
MAX_SLUG_LENGTH = 100
MAX_URL_LENGTH = 1000
"""The widths of feed_sources.slug and feed_sources.url."""


class FeedSourceError(ValueError):
    pass


@dataclass(frozen=True)
class FeedSourceOverview:
    source: FeedSource
    last_run: FeedRun | None


def list_feed_sources(session: Session) -> list[FeedSourceOverview]:
    """Every feed source by slug, each with its newest run (run ids follow queue order)."""
    newest = select(func.max(FeedRun.id)).group_by(FeedRun.source_id)
    last_runs = {
        run.source_id: run for run in session.scalars(select(FeedRun).where(FeedRun.id.in_(newest)))
    }
    return [
        FeedSourceOverview(source, last_runs.get(source.id))
        for source in session.scalars(select(FeedSource).order_by(FeedSource.slug))
    ]


def add_feed_source(
    session: Session,
    *,
    slug: str,
    kind: str,
    url: str,
    interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
    now: datetime,
) -> FeedSource:
    """A new enabled source, due at the scheduler's next tick."""
    problems = _problems(session, slug=slug, kind=kind, url=url, interval_seconds=interval_seconds)
    if problems:
        raise FeedSourceError("; ".join(problems))
    source = FeedSource(
        slug=slug,
        kind=kind,
        url=url,
        interval_seconds=interval_seconds,
        enabled=True,
        created_at=now,
    )
    session.add(source)
    session.flush()
    return source


def set_feed_source_enabled(session: Session, slug: str, *, enabled: bool) -> FeedSource:
    source = session.scalars(select(FeedSource).where(FeedSource.slug == slug)).one_or_none()
    if source is None:
        known = ", ".join(session.scalars(select(FeedSource.slug).order_by(FeedSource.slug)))
        raise UnknownFeedSource(f"unknown feed source {slug!r} (known: {known})")
    source.enabled = enabled
    session.flush()
    return source


def _problems(
    session: Session, *, slug: str, kind: str, url: str, interval_seconds: int
) -> list[str]:
    problems = []
    if not is_slug(slug) or len(slug) > MAX_SLUG_LENGTH:
        problems.append(
            f"{slug!r} is not a valid slug (lowercase letters and digits, "
            f"separated by single '.', '-' or '_'; at most {MAX_SLUG_LENGTH} characters)"
        )
    elif session.scalar(select(FeedSource.id).where(FeedSource.slug == slug)) is not None:
        problems.append(f"a feed source {slug!r} already exists")
    if kind not in ADAPTERS:
        problems.append(f"unknown kind {kind!r} (kinds: {', '.join(sorted(ADAPTERS))})")
    if not _is_http_url(url):
        problems.append(f"{url!r} is not an http(s) URL")
    if interval_seconds < MIN_INTERVAL_SECONDS:
        problems.append(
            f"interval must be at least {MIN_INTERVAL_SECONDS} seconds, got {interval_seconds}"
        )
    return problems


def _is_http_url(url: str) -> bool:
    if len(url) > MAX_URL_LENGTH or any(character.isspace() for character in url):
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a malformed IPv6 host
        return False
