"""Figures of issue 10 from a fresh offline load: routes held on first load, model dates
that keep month precision, and (with --compare) the model facts that differ from another
load's dump, such as one made by an older commit.

    .venv/bin/python scripts/facts_in_time.py [--at 2026-12-01T00:00:00+00:00]
        [--dump facts.json] [--compare older-facts.json]

The catalog is loaded into a temporary SQLite database with the clock at ``--at``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from schema.catalog.importer import import_curated
from schema.db.engine import make_engine, make_sessionmaker
from schema.ingest.facts import MODEL_FACTS as FACTS
from schema.ingest.offline import import_offline_catalog
from schema.migrations import upgrade
from schema.models import HeldPriceChange, LlmModel, Offering, Provider


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", type=datetime.fromisoformat, default=datetime.now(UTC))
    parser.add_argument("--dump", type=Path, help="write every model's shown facts here")
    parser.add_argument("--compare", type=Path, help="a dump to count changed facts against")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{Path(workdir) / 'facts.db'}"
        upgrade(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        import_curated(sessions, now=args.at)
        import_offline_catalog(sessions, now=lambda: args.at)
        with sessions() as session:
            held = session.execute(
                select(Provider.slug, Offering.provider_model_id, HeldPriceChange.reason)
                .join(Offering, Offering.id == HeldPriceChange.offering_id)
                .join(Provider, Provider.id == Offering.provider_id)
                .order_by(Provider.slug, Offering.provider_model_id)
            ).all()
            models = session.scalars(select(LlmModel).order_by(LlmModel.slug)).all()
            facts = {
                model.slug: {name: _plain(getattr(model, name)) for name in FACTS}
                for model in models
            }
            months = Counter(
                name
                for model in models
                for name in ("released_on", "knowledge_cutoff")
                if getattr(model, f"{name}_precision", None) == "MONTH"
            )
        engine.dispose()
    print(f"Routes held on first load: {len(held)}")
    for provider, model_id, reason in held:
        print(f"  {provider} {model_id}: {reason}")
    print(
        f"Dates that keep month precision: {months['released_on']} release dates, "
        f"{months['knowledge_cutoff']} knowledge cut-offs"
    )
    if args.dump:
        args.dump.write_text(json.dumps(facts, indent=1, sort_keys=True))
    if args.compare:
        older = json.loads(args.compare.read_text())
        changed = Counter(
            name
            for slug, shown in facts.items()
            if slug in older
            for name in FACTS
            if shown[name] != older[slug].get(name)
        )
        models_changed = sum(
            1
            for slug, shown in facts.items()
            if slug in older and any(shown[name] != older[slug].get(name) for name in FACTS)
        )
        print(
            f"Facts that differ from {args.compare}: {sum(changed.values())} on "
            f"{models_changed} models: {dict(changed.most_common())}"
        )


def _plain(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


if __name__ == "__main__":
    main()
