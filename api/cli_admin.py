"""`llmref apikey ...` and `llmref feeds ...`: API keys and feed sources for ops.

Results go to stdout (tables; a new key alone on the last line), everything else to
stderr. Bad input exits with status 2 and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from schema.auth import OPS_ROLE, ROLES, ApiKeyError, create_api_key, revoke_api_key
from schema.db.base import utcnow
from schema.db.engine import make_engine, make_sessionmaker, session_scope
from schema.events import publisher
from schema.ingest.scheduling import UnknownFeedSource
from schema.migrations import upgrade
from schema.models import ApiKey
from schema.services.feed_sources import (
    DEFAULT_INTERVAL_SECONDS,
    KIND_RANK,
    FeedSourceError,
    KindRank,
    add_feed_source,
    list_feed_sources,
    set_feed_source_enabled,
    update_feed_source,
)
from schema.services.source_priority import effective_rank
from schema.settings import Settings

apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
feeds_app = typer.Typer(
    help="List, add, change, enable and disable feed sources.", no_args_is_help=True
)

BAD_INPUT = 2


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    """Migrate (like every command that touches the database), then one transaction."""
    settings = Settings()
    url = make_url(settings.database_url).render_as_string(hide_password=True)
    typer.echo(f"Migrating {url} to the latest schema...", err=True)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}\nNothing was written.", err=True)
    return typer.Exit(BAD_INPUT)


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for line in [headers, *rows]:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%SZ") if at is not None else "-"


def _now() -> datetime:
    return datetime.now(UTC)


# --- API keys ---------------------------------------------------------------------------


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    role: Annotated[
        str,
        typer.Option(
            help="The key's role: "
            + "; ".join(f"{name} ({grants})" for name, grants in ROLES.items())
            + "."
        ),
    ] = OPS_ROLE,
) -> None:
    """Create a key; it is printed once, alone on the last line of stdout, and never again."""
    try:
        with _unit_of_work() as session:
            row, key = create_api_key(session, name=name, role=role, now=_now())
            key_id, prefix = row.id, row.prefix
    except ApiKeyError as error:
        raise _fail(str(error)) from None
    typer.echo(
        f"Created API key {key_id} (role {role}, prefix {prefix}). "
        "Store it now: it is shown only this once.",
        err=True,
    )
    typer.echo(key)


@apikey_app.command("list")
def apikey_list() -> None:
    """Every key with its prefix; never the key itself (only its hash is stored)."""
    with _unit_of_work() as session:
        rows = session.scalars(select(ApiKey).order_by(ApiKey.id)).all()
        table = [
            [
                str(row.id),
                row.name,
                row.role,
                row.prefix,
                _when(row.created_at),
                _when(row.revoked_at),
            ]
            for row in rows
        ]
    _print_table(["ID", "NAME", "ROLE", "PREFIX", "CREATED", "REVOKED"], table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Revoke a key: requests with it fail from now on."""
    try:
        with _unit_of_work() as session:
            revoke_api_key(session, key_id, now=_now())
    except ApiKeyError as error:
        raise _fail(str(error)) from None
    typer.echo(f"Revoked API key {key_id}.", err=True)


# --- feed sources -----------------------------------------------------------------------


@feeds_app.command("list")
def feeds_list() -> None:
    """Every feed source with its schedule and the status of its latest run."""
    with _unit_of_work() as session:
        table = [
            [
                item.source.slug,
                item.source.kind,
                item.source.url,
                str(item.source.interval_seconds),
                "yes" if item.source.enabled else "no",
                _rank(item.source.kind, item.source.rank),
                item.last_run.status if item.last_run is not None else "-",
            ]
            for item in list_feed_sources(session)
        ]
    _print_table(["SLUG", "KIND", "URL", "INTERVAL", "ENABLED", "RANK", "LAST RUN"], table)


def _rank(kind: str, rank: int | None) -> str:
    shown = str(effective_rank(kind, rank))
    return shown if rank is not None else f"{shown} (kind)"


@feeds_app.command("add")
def feeds_add(
    slug: Annotated[str, typer.Argument(help="The source's slug, e.g. 'openrouter-eu'.")],
    kind: Annotated[str, typer.Option(help="The feed format (an adapter name).")],
    url: Annotated[str, typer.Option(help="The http(s) URL to poll.")],
    interval: Annotated[
        int, typer.Option(help="Seconds between polls (at least 60).")
    ] = DEFAULT_INTERVAL_SECONDS,
) -> None:
    """Add an enabled feed source; the scheduler polls it from its next tick."""
    try:
        with _unit_of_work() as session:
            add_feed_source(
                session, slug=slug, kind=kind, url=url, interval_seconds=interval, now=_now()
            )
    except FeedSourceError as error:
        raise _fail(str(error)) from None
    typer.echo(f"Added feed source {slug} ({kind}, every {interval} s).", err=True)


@feeds_app.command("set")
def feeds_set(
    slug: Annotated[str, typer.Argument(help="The feed source to change.")],
    url: Annotated[
        str | None,
        typer.Option(help="A new http(s) URL (forgets the old one's ETag and Last-Modified)."),
    ] = None,
    interval: Annotated[
        int | None, typer.Option(help="Seconds between polls (at least 60).")
    ] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enabled/--disabled", help="Poll it on its schedule or not.")
    ] = None,
    rank: Annotated[
        str | None,
        typer.Option(
            help="Source priority, lower wins (0-1000), or 'kind' for its kind's rank "
            "(docs/data.md); prices are resolved again at once."
        ),
    ] = None,
) -> None:
    """Change a feed source: URL, interval, enabled, rank."""
    try:
        with _unit_of_work() as session:
            update = update_feed_source(
                session,
                slug,
                url=url,
                interval_seconds=interval,
                enabled=enabled,
                rank=_parse_rank(rank),
                now=_now(),
            )
            changed = update.changed
            model_ids = {event.model_id for event in update.events}
            events = len(update.events)
    except (UnknownFeedSource, FeedSourceError) as error:
        raise _fail(str(error)) from None
    if model_ids:
        _publish(model_ids)
    summary = ", ".join(changed) or "nothing changed"
    typer.echo(f"Feed source {slug}: {summary}; {events} price change events.", err=True)


def _parse_rank(rank: str | None) -> int | KindRank | None:
    if rank is None:
        return None
    if rank == "kind":
        return KIND_RANK
    try:
        return int(rank)
    except ValueError:
        raise _fail(f"rank must be an integer or 'kind', got {rank!r}") from None


def _publish(model_ids: set[int]) -> None:
    """After the commit: publish the new events and refresh cached comparisons."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        publisher(make_sessionmaker(engine), redis_url=settings.redis_url, now=utcnow)(model_ids)
    finally:
        engine.dispose()


def _set_enabled(slug: str, *, enabled: bool) -> None:
    try:
        with _unit_of_work() as session:
            set_feed_source_enabled(session, slug, enabled=enabled)
    except UnknownFeedSource as error:
        raise _fail(str(error)) from None
    typer.echo(f"Feed source {slug} is {'enabled' if enabled else 'disabled'}.", err=True)


@feeds_app.command("enable")
def feeds_enable(slug: str) -> None:
    """Poll this feed source again on its schedule."""
    _set_enabled(slug, enabled=True)


@feeds_app.command("disable")
def feeds_disable(slug: str) -> None:
    """Stop polling this feed source (its data stays)."""
    _set_enabled(slug, enabled=False)
