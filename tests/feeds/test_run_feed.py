"""Feed runs: a snapshot is applied whole or not at all, unchanged bytes are skipped, and
single bad records are skipped and named (docs/data.md, "Feed runs").

The catalog here is the curated file and a recorded excerpt of every feed; the snapshot
that fails is LiteLLM's 2026-07-03 excerpt, which would cut claude-sonnet-5's prices if it
were applied even in part.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from apply_helpers import (
    NOW,
    add_models,
    events_after,
    io,
    last_event_id,
    resolved_prices,
    row_counts,
    table_contents,
)
from feed_helpers import bundled_bytes, encode, fixture_bytes
from sqlalchemy.orm import Session, sessionmaker

from schema.catalog.importer import import_curated
from schema.db.engine import session_scope
from schema.feeds.parse import DEFAULT_MAX_BYTES
from schema.ingest.offline import import_snapshot_file
from schema.models import FeedRun

LITELLM_JULY_1 = fixture_bytes("litellm", "2026-07-01_f32e5ff0.json")
LITELLM_JULY_3 = fixture_bytes("litellm", "2026-07-03_f6ae3781.json")
CATALOG = [
    ("models.dev", fixture_bytes("models.dev", "api.json")),
    ("openrouter", fixture_bytes("openrouter", "models.json")),
    ("litellm", LITELLM_JULY_1),
    ("genai-prices", fixture_bytes("genai-prices", "data.json")),
    ("llm-prices", fixture_bytes("llm-prices", "current-v1.json")),
]
SONNET = ("claude-sonnet-5", "amazon-bedrock", "")


RunSnapshot = Callable[[str, bytes, datetime], FeedRun]


@pytest.fixture
def run_snapshot(sessions: sessionmaker[Session], tmp_path: Path) -> RunSnapshot:
    """One run of a feed on the given bytes at a fixed clock; its FeedRun row afterwards."""

    def run(slug: str, raw: bytes, at: datetime) -> FeedRun:
        path = tmp_path / f"{slug}-{uuid.uuid4().hex[:8]}.json"
        path.write_bytes(raw)
        outcome = import_snapshot_file(sessions, slug, path, now=lambda: at)
        path.unlink()
        with sessions() as session:
            return session.get_one(FeedRun, outcome.run_id)

    return run


@pytest.fixture
def catalog(sessions: sessionmaker[Session], run_snapshot: RunSnapshot) -> None:
    import_curated(sessions, now=NOW)
    with session_scope(sessions) as session:
        add_models(session, "claude-sonnet-5", "gemini-2.5-pro", "qwen3-coder-plus", "o3")
    for slug, raw in CATALOG:
        assert run_snapshot(slug, raw, NOW).status == "SUCCEEDED"


def _state(sessions: sessionmaker[Session]) -> tuple[object, ...]:
    """What a failed run must not change: every row of every table but feed_runs (so also
    the checksums that decide what is unchanged), and so the resolved prices in force."""
    with sessions() as session:
        return (
            row_counts(session),
            table_contents(session, skip_tables={"feed_runs"}),
            resolved_prices(session, NOW),
        )


def _break_two_of_five(raw: bytes) -> bytes:
    document = json.loads(raw, parse_float=Decimal)
    document["anthropic.claude-sonnet-5"]["input_cost_per_token"] = "free"
    del document["azure_ai/claude-sonnet-5"]["litellm_provider"]
    return encode(document)


UNUSABLE: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("malformed", lambda raw: raw.replace(b'"litellm_provider":', b'"litellm_provider"', 1), "not valid JSON"),
    ("truncated", lambda raw: raw[: len(raw) // 2], "not valid JSON"),
    ("empty", lambda raw: b"", "snapshot is empty"),
    ("blank", lambda raw: b" \n\t", "snapshot is empty"),
    ("another feed's format", lambda raw: fixture_bytes("openrouter", "models.json"), "wrong format"),
    ("not an object", lambda raw: b"[]", "wrong format"),
    ("oversized", lambda raw: raw + b" " * DEFAULT_MAX_BYTES, "over the 67,108,864-byte limit"),
    ("too many invalid records", _break_two_of_five, "wrong format: 2 of 5 records are invalid"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("damage", "reason"),
    [pytest.param(damage, reason, id=name) for name, damage, reason in UNUSABLE],
)
def test_an_unusable_snapshot_fails_whole_and_changes_nothing(
    sessions: sessionmaker[Session],
    run_snapshot: RunSnapshot,
    catalog: None,
    damage: Callable[[bytes], bytes],
    reason: str,
) -> None:
    before = _state(sessions)
    with sessions() as session:
        last_event = last_event_id(session)
    run = run_snapshot("litellm", damage(LITELLM_JULY_3), NOW + timedelta(hours=1))
    assert run.status == "FAILED"
    assert run.error is not None and run.error.startswith("litellm: ")
    assert reason in run.error
    assert (run.seen, run.added, run.changed, run.removed) == (0, 0, 0, 0)
    assert _state(sessions) == before
    with sessions() as session:
        assert last_event_id(session) == last_event

    # The failed bytes were not recorded as applied: the good snapshot is applied next.
    fixed = run_snapshot("litellm", LITELLM_JULY_3, NOW + timedelta(hours=2))
    assert (fixed.status, fixed.changed) == ("SUCCEEDED", 2)


def test_invalid_records_are_skipped_and_named_and_the_rest_applies(
    sessions: sessionmaker[Session], run_snapshot: RunSnapshot
) -> None:
    document = json.loads(
        bundled_bytes("litellm/history/2026-07-03_f6ae3781.json.gz"), parse_float=Decimal
    )
    document["anthropic.claude-sonnet-5"]["input_cost_per_token"] = "free"
    document["eu.anthropic.claude-sonnet-5"]["max_input_tokens"] = -5
    del document["azure_ai/claude-sonnet-5"]["litellm_provider"]
    with session_scope(sessions) as session:
        add_models(session, "claude-sonnet-5")
    run = run_snapshot("litellm", encode(document), NOW)
    assert (run.status, run.seen, run.invalid) == ("SUCCEEDED", 2254, 3)
    assert run.error is not None
    assert sorted(run.error.splitlines()) == [
        "litellm: record 'anthropic.claude-sonnet-5', field 'input_cost_per_token': 'free' is not a number",
        "litellm: record 'azure_ai/claude-sonnet-5', field 'litellm_provider': missing or empty id",
        "litellm: record 'eu.anthropic.claude-sonnet-5', field 'max_input_tokens': -5 is negative",
    ]
    with sessions() as session:
        shown = {
            (provider, region): io(value)
            for (model, provider, region), (_, value) in resolved_prices(session, NOW).items()
            if model == "claude-sonnet-5"
        }
    # The skipped records' routes are not there; the others of the model are.
    assert ("amazon-bedrock", "") not in shown
    assert ("amazon-bedrock", "eu") not in shown
    assert ("azure", "") not in shown
    assert shown[("anthropic", "")] == (2, 10)
    assert shown[("amazon-bedrock", "us")] == (Decimal("2.2"), 11)


def test_only_the_last_applied_bytes_count_as_unchanged(
    sessions: sessionmaker[Session], run_snapshot: RunSnapshot, catalog: None
) -> None:
    later = [NOW + timedelta(hours=hours) for hours in range(1, 4)]
    with sessions() as session:
        first_event = last_event_id(session)
    assert run_snapshot("litellm", LITELLM_JULY_3, later[0]).status == "SUCCEEDED"
    again = run_snapshot("litellm", LITELLM_JULY_3, later[1])
    assert (again.status, again.seen, again.error) == ("UNCHANGED", 0, None)
    # Back to the older bytes: not the last applied, so applied, and the cut is undone.
    back = run_snapshot("litellm", LITELLM_JULY_1, later[2])
    assert (back.status, back.changed) == ("SUCCEEDED", 2)
    with sessions() as session:
        sonnet = [
            (at_kind, io(old), io(new))
            for at_kind, *route, old, new in events_after(session, first_event)
            if tuple(route) == SONNET
        ]
    assert sonnet == [("CHANGED", (3, 15), (2, 10)), ("CHANGED", (2, 10), (3, 15))]
