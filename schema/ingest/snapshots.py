"""Each feed's last applied records, stored so identity can be resolved over every feed's
latest names at once (schema/ingest/resolve.py) and a feed's routes can be rebuilt when
another feed's evidence changes which model one of its names is.

Records are stored as gzip-compressed JSON: dataclasses by name, with Decimal, date,
datetime, tuple and frozenset values tagged so they read back exactly as they were.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schema.domain.facts import parse_partial_date
from schema.domain.observations import (
    BenchmarkObservation,
    PriceObservation,
    PriceTierObservation,
)
from schema.feeds.records import FeedRecord
from schema.models import FeedSnapshot

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (FeedRecord, PriceObservation, PriceTierObservation, BenchmarkObservation)
}


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {
            "$type": type(value).__name__,
            **{f.name: _encode(getattr(value, f.name)) for f in fields(value)},
        }
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, frozenset):
        return {"$frozenset": sorted(_encode(item) for item in value)}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(item) for item in value]}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$type" in value:
        cls = _TYPES[value["$type"]]
        return cls(**{k: _decode(v) for k, v in value.items() if k != "$type"})
    [(tag, inner)] = value.items()
    if tag == "$decimal":
        return Decimal(inner)
    if tag == "$datetime":
        return datetime.fromisoformat(inner)
    if tag == "$date":
        return parse_partial_date(inner)  # a MonthDate stays a month
    if tag == "$frozenset":
        return frozenset(_decode(inner))
    if tag == "$tuple":
        return tuple(_decode(inner))
    raise ValueError(f"unknown tag {tag!r} in a stored snapshot")


def encode_records(records: list[FeedRecord]) -> bytes:
    text = json.dumps([_encode(record) for record in records], separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def decode_records(data: bytes) -> list[FeedRecord]:
    return [_decode(item) for item in json.loads(gzip.decompress(data))]


def store_records(
    session: Session,
    source: str,
    records: list[FeedRecord],
    *,
    now: datetime,
    stated_at: datetime,
) -> None:
    row = session.get(FeedSnapshot, source)
    data = encode_records(records)
    if row is None:
        session.add(FeedSnapshot(source=source, records=data, stored_at=now, stated_at=stated_at))
    elif row.records != data:
        row.records, row.stored_at, row.stated_at = data, now, stated_at


def stored_records(session: Session) -> dict[str, list[FeedRecord]]:
    """Every feed's last applied records, by source."""
    return {
        source: decode_records(data)
        for source, data in session.execute(select(FeedSnapshot.source, FeedSnapshot.records))
    }


def stated_dates(session: Session) -> dict[str, datetime]:
    """Every feed's last applied snapshot's data date, by source."""
    rows = session.execute(select(FeedSnapshot.source, FeedSnapshot.stated_at))
    return dict(rows.all())
