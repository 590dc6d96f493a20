"""Each feed's stored records (schema/ingest/snapshots.py): they read back exactly as they
were applied, from this process's decoded blobs or from the database alone."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from schema.domain.observations import PriceObservation
from schema.feeds.parse import parse_snapshot
from schema.feeds.records import FeedRecord
from schema.feeds.sources import KNOWN_FEEDS, KnownFeed, bundled_path, read_snapshot_file
from schema.ingest import snapshots
from schema.ingest.snapshots import decode_records, encode_records, store_records, stored_records

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize("feed", KNOWN_FEEDS, ids=lambda feed: feed.slug)
def test_every_bundled_record_reads_back_exactly(feed: KnownFeed) -> None:
    records = parse_snapshot(
        feed.kind, read_snapshot_file(bundled_path(feed.kind)), as_of=NOW
    ).records
    back = decode_records(encode_records(records))
    assert back == records
    assert [type(record.price) for record in back] == [type(record.price) for record in records]


def test_a_value_at_its_default_is_left_out_and_reads_back_as_the_default() -> None:
    record = FeedRecord(
        provider="openai",
        provider_model_id="gpt-x",
        open_weights=False,
        capabilities=frozenset({"VISION"}),
        price=PriceObservation(input_per_mtok=None, output_per_mtok=None),
    )
    [stored] = json.loads(gzip.decompress(encode_records([record])))
    assert set(stored) == {
        "$type",
        "provider",
        "provider_model_id",
        "open_weights",
        "capabilities",
        "price",
    }
    assert stored["price"] == {
        "$type": "PriceObservation",
        "input_per_mtok": None,
        "output_per_mtok": None,
    }
    assert decode_records(encode_records([record])) == [record]


def test_a_blob_stored_with_every_field_still_reads_back() -> None:
    """Blobs written before defaults were left out carry every field."""
    old: list[dict[str, Any]] = [
        {
            "$type": "FeedRecord",
            "provider": "openai",
            "provider_model_id": "gpt-x",
            "name": None,
            "identity_hints": {"$tuple": ["openai/gpt-x"]},
            "context_window": 128000,
            "benchmarks": {"$tuple": []},
            "price": {
                "$type": "PriceObservation",
                "input_per_mtok": {"$decimal": "1.50"},
                "output_per_mtok": None,
                "cached_input_per_mtok": None,
                "tiers": {"$tuple": []},
                "effective_from": None,
                "effective_to": None,
            },
            "price_history": {"$tuple": []},
            "url": None,
        }
    ]
    [record] = decode_records(gzip.compress(json.dumps(old).encode()))
    assert record == FeedRecord(
        provider="openai",
        provider_model_id="gpt-x",
        identity_hints=("openai/gpt-x",),
        context_window=128000,
        price=PriceObservation(input_per_mtok=Decimal("1.50"), output_per_mtok=None),
    )


def test_stored_records_read_back_whether_this_process_decoded_them_or_not(
    sessions: sessionmaker[Session],
) -> None:
    first = [FeedRecord(provider="openai", provider_model_id=f"gpt-{n}") for n in range(3)]
    second = [replace(record, context_window=1000) for record in first]
    with sessions.begin() as session:
        store_records(session, "litellm", first, now=NOW, stated_at=NOW)
        store_records(session, "openrouter", second, now=NOW, stated_at=NOW)
    with sessions() as session:
        assert stored_records(session) == {"litellm": first, "openrouter": second}
    snapshots._decoded.clear()  # another process: only the database knows the records
    with sessions() as session:
        assert stored_records(session) == {"litellm": first, "openrouter": second}
    with sessions.begin() as session:
        store_records(session, "litellm", second, now=NOW, stated_at=NOW)
    with sessions() as session:
        assert stored_records(session) == {"litellm": second, "openrouter": second}


def test_each_feed_keeps_the_data_date_of_its_last_snapshot(
    sessions: sessionmaker[Session],
) -> None:
    """A feed rebuilt because another feed's evidence moved its names keeps its own date."""
    records = [FeedRecord(provider="openai", provider_model_id="gpt-5")]
    july, august = datetime(2026, 7, 24, tzinfo=UTC), datetime(2026, 8, 21, tzinfo=UTC)
    with sessions.begin() as session:
        store_records(session, "litellm", records, now=NOW, stated_at=july)
        store_records(session, "genai-prices", records, now=NOW, stated_at=august)
    with sessions() as session:
        assert snapshots.stated_dates(session) == {"litellm": july, "genai-prices": august}
    with sessions.begin() as session:  # the same records, stated again as of a newer date
        store_records(session, "litellm", records, now=NOW, stated_at=august)
    with sessions() as session:
        assert snapshots.stated_dates(session)["litellm"] == august
