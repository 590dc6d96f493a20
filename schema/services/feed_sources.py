"""Feed sources: list, add, change (URL, interval, enabled, rank). Services never commit; the caller's unit of
work does. Invalid input raises FeedSourceError before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from schema.domain.slugs import is_slug
from schema.feeds.adapters import ADAPTERS
from schema.ingest.scheduling import UnknownFeedSource
from schema.models import FeedRun, FeedSource, ObservedPrice, OfferingListing, PriceChangeEvent
from schema.services.prices import refresh_offerings, resolve_prices

MIN_INTERVAL_SECONDS = 60
DEFAULT_INTERVAL_SECONDS = 3600
MAX_SLUG_LENGTH = 100
MAX_URL_LENGTH = 1000
"""The widths of feed_sources.slug and feed_sources.url."""
MIN_RANK, MAX_RANK = 0, 1000


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
    source = _known(session, slug)
    source.enabled = enabled
    session.flush()
    return source


class KindRank:
    """``rank=KIND_RANK`` in ``update_feed_source``: back to the rank of the feed's kind."""


KIND_RANK = KindRank()


@dataclass
class FeedSourceUpdate:
    source: FeedSource
    changed: list[str] = field(default_factory=list)
    """What changed, in words, for the operator."""
    events: list[PriceChangeEvent] = field(default_factory=list)
    """Price changes a new rank caused (publish them after the commit)."""


def update_feed_source(
    session: Session,
    slug: str,
    *,
    url: str | None = None,
    interval_seconds: int | None = None,
    enabled: bool | None = None,
    rank: int | KindRank | None = None,
    now: datetime,
) -> FeedSourceUpdate:
    """Change a source's URL, interval, enabled flag or rank; None leaves a field as it is.

    A new URL forgets the conditional-GET validators (ETag, Last-Modified) the old one
    answered with and makes the source due at the next tick. A new rank re-resolves the
    prices of every route the source lists or prices, with an event for each shown price
    that changes."""
    source = _known(session, slug)
    problems = []
    if url is None and interval_seconds is None and enabled is None and rank is None:
        problems.append("nothing to change: give a URL, an interval, enabled or a rank")
    if url is not None and not _is_http_url(url):
        problems.append(f"{url!r} is not an http(s) URL")
    if interval_seconds is not None and (problem := _interval_problem(interval_seconds)):
        problems.append(problem)
    if isinstance(rank, int) and not MIN_RANK <= rank <= MAX_RANK:
        problems.append(f"rank must be between {MIN_RANK} and {MAX_RANK}, got {rank}")
    if problems:
        raise FeedSourceError("; ".join(problems))
    update = FeedSourceUpdate(source)
    if url is not None and url != source.url:
        source.url, source.etag, source.last_modified, source.next_due_at = url, None, None, None
        update.changed.append(f"url {url} (validators reset, due at the next tick)")
    if interval_seconds is not None and interval_seconds != source.interval_seconds:
        source.interval_seconds = interval_seconds
        update.changed.append(f"interval {interval_seconds} s")
    if enabled is not None and enabled != source.enabled:
        source.enabled = enabled
        update.changed.append("enabled" if enabled else "disabled")
    new_rank = None if isinstance(rank, KindRank) else rank
    if rank is not None and new_rank != source.rank:
        source.rank = new_rank
        session.flush()
        update.events = _resolve_again(session, slug, now=now)
        update.changed.append(f"rank {new_rank}" if new_rank is not None else "rank of its kind")
    session.flush()
    return update


def _resolve_again(session: Session, slug: str, *, now: datetime) -> list[PriceChangeEvent]:
    """Rebuild the routes the source lists or prices under the current priority."""
    offering_ids = set(
        session.scalars(
            union(
                select(ObservedPrice.offering_id).where(ObservedPrice.source == slug),
                select(OfferingListing.offering_id).where(OfferingListing.source == slug),
            )
        )
    )
    refresh_offerings(session, offering_ids, now=now)
    return resolve_prices(session, offering_ids, now=now, run_id=None)


def _known(session: Session, slug: str) -> FeedSource:
    source = session.scalars(select(FeedSource).where(FeedSource.slug == slug)).one_or_none()
    if source is None:
        known = ", ".join(session.scalars(select(FeedSource.slug).order_by(FeedSource.slug)))
        raise UnknownFeedSource(f"unknown feed source {slug!r} (known: {known})")
    return source


def _interval_problem(interval_seconds: int) -> str | None:
    if interval_seconds < MIN_INTERVAL_SECONDS:
        return f"interval must be at least {MIN_INTERVAL_SECONDS} seconds, got {interval_seconds}"
    return None


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
    if problem := _interval_problem(interval_seconds):
        problems.append(problem)
    return problems


def _is_http_url(url: str) -> bool:
    if len(url) > MAX_URL_LENGTH or any(character.isspace() for character in url):
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a malformed IPv6 host
        return False
