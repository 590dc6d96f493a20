"""Identity figures of a fresh offline load: per feed, names read, matched, models created,
unmatched and held apart, and the number of models (issue 9's note).

Usage: .venv/bin/python bench/identity.py [--database-url URL] [--cases PATH]

Without --database-url it loads into a temporary SQLite file. "Models created" counts, for
each model, the feed of the listing that names it (the first listing, in the documented
order, of a feed allowed to create it). With --cases (tests/feeds/identity_cases.yaml) it
also resolves every case through the same lookup as resolveModel and lists the failures.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from api.services.models import resolve_model_names
from schema.catalog.importer import import_curated
from schema.db.engine import (
    make_async_engine,
    make_async_sessionmaker,
    make_engine,
    make_sessionmaker,
)
from schema.feeds.sources import KNOWN_FEEDS
from schema.ingest.identity import load_identity
from schema.ingest.offline import import_offline_catalog
from schema.ingest.resolve import HELD_APART, UNMATCHED, listing_of, resolve
from schema.ingest.snapshots import stored_records
from schema.migrations import upgrade
from schema.models import LlmModel, ModelAlias

MODELS_BEFORE = 526
"""The offline catalog's models before issue 9 (issue 3's note, main at a3db3c9)."""


def table(url: str) -> None:
    sessions = make_sessionmaker(make_engine(url))
    with sessions() as session:
        records = stored_records(session)
        curated: dict[str, list[str]] = {}
        for slug, name in session.execute(
            select(LlmModel.slug, ModelAlias.name)
            .join(LlmModel, LlmModel.id == ModelAlias.model_id)
            .where(ModelAlias.source == "curated")
        ):
            curated.setdefault(slug, []).append(name)
        models = session.scalar(select(func.count()).select_from(LlmModel))
        with_creator = session.scalar(
            select(func.count()).select_from(LlmModel).where(LlmModel.creator_id.is_not(None))
        )
    identity = load_identity()
    resolution = resolve(records, identity, curated=curated)
    created = Counter(
        next((item.feed for item in spec.listings if item.creates), "curated")
        for spec in resolution.models.values()
    )
    notes = {
        kind: Counter(
            (note.feed)
            for note in {
                (n.feed, n.name, n.provider): n for n in resolution.notes if n.kind == kind
            }.values()
        )
        for kind in (UNMATCHED, HELD_APART)
    }
    print(
        f"{'feed':<14}{'names read':>11}{'matched':>9}{'created':>9}{'unmatched':>11}{'held apart':>12}"
    )
    for feed in KNOWN_FEEDS:
        listings = [
            item for r in records.get(feed.slug, []) if (item := listing_of(identity, feed.slug, r))
        ]
        matched = sum(1 for item in listings if resolution.model_of(feed.slug, item.record))
        print(
            f"{feed.slug:<14}{len(listings):>11}{matched:>9}{created[feed.slug]:>9}"
            f"{notes[UNMATCHED][feed.slug]:>11}{notes[HELD_APART][feed.slug]:>12}"
        )
    print(f"models only the curated file names: {created['curated']}")
    print(
        f"models: before {MODELS_BEFORE}, after {models}; with a creator {with_creator} ({100 * with_creator / models:.1f}%)"
    )


async def check_cases(url: str, path: Path) -> None:
    # Read once before the first request; nothing else runs on this loop yet.
    cases: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))  # noqa: ASYNC240
    names = sorted(
        {n["name"] for g in cases["groups"] for n in g["names"]}
        | {p[side]["name"] for p in cases["pairs"] for side in ("a", "b")}
    )
    engine = make_async_engine(url)
    async with make_async_sessionmaker(engine)() as session:
        found = await resolve_model_names(session, names)
    await engine.dispose()
    slug = {name: model.slug if model else None for name, model in found.items()}
    failed = 0
    for group in cases["groups"]:
        slugs = {n["name"]: slug[n["name"]] for n in group["names"]}
        if None in slugs.values() or len(set(slugs.values())) != 1:
            failed += 1
            print(f"GROUP {group['id']}: {slugs}")
    for pair in cases["pairs"]:
        a, b = slug[pair["a"]["name"]], slug[pair["b"]["name"]]
        missing = [
            s for s, side in ((a, "a"), (b, "b")) if s is None and not pair[side].get("optional")
        ]
        if missing or (a is not None and a == b):
            failed += 1
            print(f"PAIR {pair['id']}: {pair['a']['name']} -> {a}, {pair['b']['name']} -> {b}")
    print(f"cases: {len(cases['groups'])} groups, {len(cases['pairs'])} pairs, {failed} failing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--cases", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or f"sqlite:///{workdir}/identity.db"
        upgrade(url)
        sessions = make_sessionmaker(make_engine(url))
        started = time.perf_counter()
        import_curated(sessions)
        import_offline_catalog(sessions)
        print(f"offline load: {time.perf_counter() - started:.1f} s")
        table(url)
        if args.cases:
            asyncio.run(check_cases(url, args.cases))


if __name__ == "__main__":
    main()
