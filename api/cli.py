"""The `llmref` command: serve, migrate, import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from schema.catalog.importer import CURATED_PATH, catalog_is_empty, import_curated
from schema.catalog.spec import CuratedFileError
from schema.db.engine import make_engine, make_sessionmaker
from schema.migrations import upgrade
from schema.settings import Settings

app = typer.Typer(help="llmref: a GraphQL backend for choosing between LLMs.", no_args_is_help=True)


def _migrate(settings: Settings) -> None:
    typer.echo(f"Migrating {_safe_url(settings.database_url)} to the latest schema...", err=True)
    upgrade(settings.database_url)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def migrate() -> None:
    """Bring the database named by LLMREF_DATABASE_URL to the latest schema."""
    _migrate(Settings())
    typer.echo("Database is at the latest migration.", err=True)


@app.command(name="import")
def import_(
    curated: Annotated[bool, typer.Option("--curated", help="Import the curated catalog.")] = False,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="A curated YAML file to import instead of the bundled one."),
    ] = None,
) -> None:
    """Import catalog data into the database (migrating it first)."""
    if not curated:
        typer.echo("Nothing to import: pass --curated.", err=True)
        raise typer.Exit(2)
    settings = Settings()
    _migrate(settings)
    engine = make_engine(settings.database_url)
    try:
        report = import_curated(make_sessionmaker(engine), file or CURATED_PATH)
    except CuratedFileError as error:
        typer.echo(f"error: {error}\nNothing was written.", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(
        f"Imported the curated catalog: {report.models} models, {report.offerings} offerings, "
        f"{report.price_changes} price changes.",
        err=True,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Migrate, load the curated catalog into an empty database, and serve GraphQL."""
    from api.app import create_app

    settings = Settings()
    _migrate(settings)
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as session:
            empty = catalog_is_empty(session)
        if empty and settings.load_catalog_on_start:
            report = import_curated(sessions)
            typer.echo(f"Loaded the curated catalog: {report.models} models.", err=True)
    finally:
        engine.dispose()
    typer.echo(f"GraphQL at http://{host}:{port}/graphql", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


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
