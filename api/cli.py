"""The `llmref` command: serve, migrate, import, worker, beat, feeds, apikey."""

from __future__ import annotations

import gc
import os
import shutil
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session, sessionmaker

from api.cli_admin import apikey_app, feeds_app
from schema.catalog.importer import CURATED_PATH, catalog_is_empty, catalog_size, import_curated
from schema.catalog.spec import CuratedFileError
from schema.db.base import utcnow
from schema.db.engine import make_engine, make_sessionmaker, session_scope
from schema.db.setup_lock import database_setup_lock
from schema.events import publisher
from schema.feeds.sources import KNOWN_FEEDS, bundled_catalog_dates
from schema.ingest.offline import RunAlreadyOpen, import_offline_catalog, import_snapshot_file
from schema.ingest.scheduling import UnknownFeedSource, postpone_all
from schema.ingest.sync import RunOutcome
from schema.migrations import upgrade
from schema.settings import Settings

app = typer.Typer(help="llmref: a GraphQL backend for choosing between LLMs.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
app.add_typer(feeds_app, name="feeds")


@app.callback()
def _check_settings() -> None:
    """Before any command: each setting the environment gives wrongly, named with what is
    wrong, and exit status 2 (instead of a traceback from the first command to read them)."""
    try:
        Settings()
    except ValidationError as error:
        for problem in error.errors():
            name = "LLMREF_" + "_".join(str(part) for part in problem["loc"]).upper()
            typer.echo(
                f"llmref: {name}={problem['input']!r} is not accepted: {problem['msg']}", err=True
            )
        raise typer.Exit(2) from None


def _migrate(settings: Settings) -> None:
    typer.echo(f"Migrating {_safe_url(settings.database_url)} to the latest schema...", err=True)
    upgrade(settings.database_url)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def migrate() -> None:
    """Bring the database named by LLMREF_DATABASE_URL to the latest schema."""
    settings = Settings()
    with database_setup_lock(settings.database_url):
        _migrate(settings)
    typer.echo("Database is at the latest migration.", err=True)


@app.command(name="import")
def import_(
    curated: Annotated[bool, typer.Option("--curated", help="Import the curated catalog.")] = False,
    source: Annotated[
        str | None, typer.Option("--source", help="Import one feed snapshot (a feed source slug).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            help="The file to import instead of the bundled one (curated YAML or feed snapshot)."
        ),
    ] = None,
) -> None:
    """Import the curated catalog (--curated) or one feed snapshot (--source NAME)."""
    if curated == (source is not None):
        typer.echo("error: pass exactly one of --curated or --source NAME.", err=True)
        raise typer.Exit(2)
    settings = Settings()
    _migrate(settings)
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    try:
        if curated:
            _import_curated(sessions, file or CURATED_PATH, _publisher(settings, sessions))
        else:
            assert source is not None
            _import_feed(sessions, source, file, _publisher(settings, sessions))
    finally:
        engine.dispose()


def _publisher(settings: Settings, sessions: sessionmaker[Session]) -> Callable[[set[int]], None]:
    """After an import commits: publish its events and bump the changed models' cached
    comparisons (in Redis when configured; a separate `llmref serve` without Redis keeps
    its in-process cache, whose entries expire within a minute)."""
    return publisher(sessions, redis_url=settings.redis_url, now=utcnow)


def _import_curated(
    sessions: sessionmaker[Session], path: Path, after_commit: Callable[[set[int]], None]
) -> None:
    try:
        report = import_curated(sessions, path, after_commit=after_commit)
    except CuratedFileError as error:
        typer.echo(f"error: {error}\nNothing was written.", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"Imported the curated catalog: {report.models} models, {report.offerings} offerings, "
        f"{report.price_changes} price changes.",
        err=True,
    )


def _import_feed(
    sessions: sessionmaker[Session],
    source: str,
    path: Path | None,
    after_commit: Callable[[set[int]], None],
) -> None:
    try:
        outcome = import_snapshot_file(sessions, source, path, after_commit=after_commit)
    except (UnknownFeedSource, RunAlreadyOpen) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(_describe(source, outcome), err=True)
    if outcome.status == "FAILED":
        raise typer.Exit(1)


def _describe(source: str, outcome: RunOutcome) -> str:
    if outcome.status == "FAILED":
        return f"{source}: run {outcome.run_id} FAILED, nothing changed: {outcome.error}"
    if outcome.report is None:
        return f"{source}: run {outcome.run_id} {outcome.status} (same content as the last import)"
    r = outcome.report
    return (
        f"{source}: run {outcome.run_id} {outcome.status}: {r.seen} records, {r.added} prices added, "
        f"{r.changed} changed, {r.removed} removed, {r.unmatched} unmatched names, {r.invalid} invalid"
    )


def _load_offline_catalog(
    settings: Settings, sessions: sessionmaker[Session], console: Console | None = None
) -> None:
    """Curated catalog and every bundled feed, with a progress bar on the terminal that
    advances as each step is done."""
    steps = ["curated", *(feed.slug for feed in KNOWN_FEEDS)]
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=False,
    ) as progress:
        task = progress.add_task("Loading the offline catalog", total=len(steps))

        def starting(step: str) -> None:
            progress.update(task, description=f"Loading the offline catalog: {step}", refresh=True)

        def done(outcome: RunOutcome | None = None) -> None:
            progress.advance(task)
            if outcome is not None and outcome.status == "FAILED":
                progress.console.print(f"[red]{outcome.error}[/red]")
            progress.refresh()

        publish = _publisher(settings, sessions)
        starting("curated")
        import_curated(sessions, after_commit=publish)
        done()
        import_offline_catalog(sessions, on_feed=starting, on_imported=done, after_commit=publish)
        progress.update(task, description="Loading the offline catalog: done", refresh=True)
    with session_scope(sessions) as session:
        postpone_all(session, now=utcnow())
        models = catalog_size(session)
    typer.echo(f"Offline catalog loaded: {models[0]} models, {models[1]} offerings.", err=True)
    typer.echo(catalog_age(bundled_catalog_dates(), utcnow()), err=True)


def catalog_age(dates: dict[str, datetime], now: datetime) -> str:
    """How old the offline catalog's data is: each feed's data date, and the age in days."""
    listed = ", ".join(
        f"{kind} {at:%Y-%m-%d}" for kind, at in sorted(dates.items(), key=lambda i: i[1])
    )
    newest, oldest = max(dates.values()), min(dates.values())
    return (
        f"Its data is {(now - newest).days} to {(now - oldest).days} days old "
        f"(data dates: {listed}); live feeds update it when workers or the embedded runner poll."
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (a proxy in front often does it already).")
    ] = True,
) -> None:
    """Migrate, load the offline catalog into an empty database, and serve GraphQL."""
    from api.app import create_app
    from api.logs import configure_logging

    settings = Settings()
    configure_logging(settings)
    with database_setup_lock(settings.database_url):  # replicas set an empty database up once
        _migrate(settings)
        engine = make_engine(settings.database_url)
        sessions = make_sessionmaker(engine)
        try:
            with sessions() as session:
                empty = catalog_is_empty(session)
            if empty and settings.load_catalog_on_start:
                _load_offline_catalog(settings, sessions)
        finally:
            engine.dispose()
    typer.echo(f"GraphQL at http://{host}:{port}/graphql", err=True)
    app = create_app(settings)
    tune_garbage_collection()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=access_log,
        # Event messages are a few hundred bytes, sent to every subscriber: compressing each
        # connection's copy separately cost more CPU per event than anything else per
        # subscriber (bench/README.md, "Subscription delivery latency").
        ws_per_message_deflate=False,
    )


YOUNG_COLLECTION_THRESHOLD = 50_000
"""Allocations between young-generation collections (CPython's default is 700)."""


def tune_garbage_collection() -> None:
    """Fewer, larger collections for a server holding many live objects per websocket:
    with CPython's defaults, delivering events to 1,000 subscribers set off a young
    collection every few hundred sends and, every few events, a full one of up to 400 ms
    that stalled every subscriber at once (bench/README.md, "Subscription delivery
    latency").
    What start-up made is frozen: it lives as long as the process, and full collections
    skip it."""
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, 20, 20)


CELERY_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def _celery(command: str, extra: list[str]) -> None:
    """Replace this process with Celery's own command line (never importing workers/)."""
    if not Settings().redis_url:
        typer.echo("error: LLMREF_REDIS_URL must name the Redis broker.", err=True)
        raise typer.Exit(2)
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or shutil.which("celery")
    if celery is None:
        typer.echo("error: the celery command is not installed.", err=True)
        raise typer.Exit(2)
    os.execv(celery, [celery, "-A", "workers.celery_app", command, *extra])


@app.command(context_settings=CELERY_ARGS)
def worker(context: typer.Context) -> None:
    """Run a Celery worker (extra options go to `celery worker`, e.g. --concurrency 2)."""
    _celery("worker", ["--loglevel", "INFO", *context.args])


@app.command(context_settings=CELERY_ARGS)
def beat(context: typer.Context) -> None:
    """Run the Celery beat that ticks the schedule (run exactly one)."""
    _celery("beat", ["--loglevel", "INFO", *context.args])


@app.command(name="export-schema")
def export_schema(
    output: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path(
        "schema/schema.graphql"
    ),
) -> None:
    """Write the GraphQL SDL (committed as schema/schema.graphql; a test keeps it fresh)."""
    from api.graphql.schema import export_sdl

    output.write_text(export_sdl(), encoding="utf-8")
    typer.echo(f"Wrote {output}", err=True)
