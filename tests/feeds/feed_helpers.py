"""Helpers for the feed tests: recorded fixtures, bundled snapshots, a fixed clock."""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import schema.feeds
from schema.catalog.importer import import_curated
from schema.db.engine import make_engine, make_sessionmaker
from schema.feeds.adapters import ADAPTERS
from schema.feeds.records import FeedRecord, ParsedSnapshot
from schema.feeds.sources import KNOWN_FEEDS
from schema.ingest.offline import import_offline_catalog
from schema.migrations import upgrade
from tests.conftest import _empty_all_tables

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "feeds"
BUNDLED = Path(schema.feeds.__file__).parent / "bundled"
AS_OF = datetime(2026, 8, 21, tzinfo=UTC)
"""The newest recorded data date (genai-prices, 2026-08-21), used as "now" for dated prices."""


@functools.cache
def build_script() -> ModuleType:
    """scripts/build_bundled_feeds.py, which is not a package module."""
    spec = importlib.util.spec_from_file_location(
        "build_bundled_feeds", REPO / "scripts" / "build_bundled_feeds.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_bytes(kind: str, name: str) -> bytes:
    return (FIXTURES / kind / name).read_bytes()


def fixture_json(kind: str, name: str) -> Any:
    """A fixture as Python data (numbers as Decimal), to edit and re-encode with ``encode``."""
    return json.loads(fixture_bytes(kind, name), parse_float=Decimal)


def encode(document: Any) -> bytes:
    """JSON bytes that write Decimals exactly as parsed (the build script's encoder)."""
    data: bytes = build_script().dump_json(document)
    return data


def parse_fixture(kind: str, name: str, *, as_of: datetime = AS_OF) -> ParsedSnapshot:
    return ADAPTERS[kind](fixture_bytes(kind, name), as_of=as_of)


def bundled_bytes(path: str) -> bytes:
    return gzip.decompress((BUNDLED / path).read_bytes())


def by_route(snapshot: ParsedSnapshot) -> dict[tuple[str, str], FeedRecord]:
    return {(record.provider, record.provider_model_id): record for record in snapshot.records}


OFFLINE_AT = datetime(2026, 6, 30, 12, tzinfo=UTC)
"""The offline catalog's import clock: before the first snapshot of the LiteLLM pair."""


def build_offline_catalog(url: str, at: datetime = OFFLINE_AT) -> None:
    """Migrate the database at ``url``, empty it and import the full offline catalog (the
    curated file and the five bundled feeds) with the clock at ``at``."""
    upgrade(url)
    engine = make_engine(url)
    _empty_all_tables(engine)
    sessions = make_sessionmaker(engine)
    import_curated(sessions, now=at)
    outcomes = import_offline_catalog(sessions, now=lambda: at)
    engine.dispose()
    assert [outcome.status for outcome in outcomes] == ["SUCCEEDED"] * len(KNOWN_FEEDS)
