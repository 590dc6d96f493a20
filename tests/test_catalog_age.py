"""`llmref serve` says how old the offline catalog's data is (docs/data.md, "Data dates")."""

from __future__ import annotations

from datetime import UTC, datetime

from api.cli import catalog_age
from schema.feeds.sources import bundled_catalog_dates


def test_the_offline_catalog_age_is_counted_from_the_bundled_data_dates() -> None:
    # The data dates ../shared/feeds/SOURCES.md gives for the five bundled snapshots.
    dates = bundled_catalog_dates()
    assert {kind: at.date().isoformat() for kind, at in dates.items()} == {
        "openrouter": "2026-05-15",
        "models.dev": "2026-07-01",
        "litellm": "2026-07-24",
        "llm-prices": "2026-08-06",
        "genai-prices": "2026-08-21",
    }
    text = catalog_age(dates, datetime(2026, 12, 1, tzinfo=UTC))
    assert text.startswith("Its data is 101 to 199 days old (data dates: openrouter 2026-05-15,")
