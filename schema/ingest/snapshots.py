"""Each feed's last applied records, stored so identity can be resolved over every feed's
latest names at once (schema/ingest/resolve.py) and a feed's routes can be rebuilt when
another feed's evidence changes which model one of its names is.

Records are stored as gzip-compressed JSON: dataclasses by name, with Decimal, date,
datetime, tuple and frozenset values tagged so they read back exactly as they were. Every
apply reads every feed's records, so a process keeps the records of the last few stored
blobs it wrote or read, by the blobs' digest: only a blob it has not seen is decoded.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from dataclasses import MISSING, fields
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


_FIELDS: dict[type[Any], tuple[tuple[str, Any], ...]] = {
    cls: tuple((f.name, f.default) for f in fields(cls)) for cls in _TYPES.values()
}
"""Each stored dataclass's fields and their defaults (a field at its default is left out:
it reads back as the default)."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    shape = _FIELDS.get(type(value))
    if shape is not None:
        encoded = {"$type": type(value).__name__}
        for name, default in shape:
            item = getattr(value, name)
            if default is MISSING or item != default:
                encoded[name] = _encode(item)
        return encoded
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


DECODED_KEPT = 16
"""How many decoded blobs a process keeps (five feeds, each with a few recent versions)."""
_decoded: dict[bytes, tuple[FeedRecord, ...]] = {}
"""sha256 of a stored blob -> its records, least recently used first."""
_decoded_lock = threading.Lock()


def _keep(digest: bytes, records: tuple[FeedRecord, ...]) -> None:
    with _decoded_lock:
        _decoded.pop(digest, None)
        _decoded[digest] = records
        while len(_decoded) > DECODED_KEPT:
            del _decoded[next(iter(_decoded))]


def _records_of(data: bytes) -> list[FeedRecord]:
    """The records a stored blob holds, decoded once per process (records are frozen)."""
    digest = hashlib.sha256(data).digest()
    records = _decoded.get(digest)
    if records is None:
        records = tuple(decode_records(data))
    _keep(digest, records)
    return list(records)


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
    _keep(hashlib.sha256(data).digest(), tuple(records))
    if row is None:
        session.add(FeedSnapshot(source=source, records=data, stored_at=now, stated_at=stated_at))
    else:
        if row.records != data:
            row.records, row.stored_at = data, now
        row.stated_at = stated_at  # the same records, stated again as of a newer date


def stored_records(session: Session) -> dict[str, list[FeedRecord]]:
    """Every feed's last applied records, by source."""
    return {
        source: _records_of(data)
        for source, data in session.execute(select(FeedSnapshot.source, FeedSnapshot.records))
    }


def stated_dates(session: Session) -> dict[str, datetime]:
    """Every feed's last applied snapshot's data date, by source."""
    rows = session.execute(select(FeedSnapshot.source, FeedSnapshot.stated_at))
    return dict(rows.all())
