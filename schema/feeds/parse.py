"""Parse one feed snapshot and decide whether it is usable as a whole."""

from __future__ import annotations

from datetime import datetime

from schema.feeds.adapters import ADAPTERS
from schema.feeds.records import ParsedSnapshot, SnapshotError

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_INVALID_SHARE = 0.20
"""More invalid records than this share of all records means the feed changed format."""


def parse_snapshot(
    kind: str,
    raw: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    as_of: datetime | None = None,
) -> ParsedSnapshot:
    """The snapshot's records, or SnapshotError naming the feed when it is unusable.

    Unusable: unknown kind, empty, over ``max_bytes``, not JSON (malformed, truncated,
    undecodable), the wrong shape for ``kind``, no usable record, or more than 20% of its
    records invalid. ``as_of`` picks the current price among dated ones (default now).
    """
    adapter = ADAPTERS.get(kind)
    if adapter is None:
        known = ", ".join(sorted(ADAPTERS))
        raise SnapshotError(f"unknown feed kind {kind!r} (known: {known})")
    if len(raw) > max_bytes:
        raise SnapshotError(
            f"{kind}: snapshot is {len(raw):,} bytes, over the {max_bytes:,}-byte limit"
        )
    if not raw.strip():
        raise SnapshotError(f"{kind}: snapshot is empty")
    snapshot = adapter(raw, as_of=as_of)
    invalid = len(snapshot.invalid)
    total = len(snapshot.records) + invalid
    first = f"; first: {snapshot.invalid[0].describe(kind)}" if invalid else ""
    if not snapshot.records:
        raise SnapshotError(f"{kind}: snapshot has no usable records ({invalid} invalid{first})")
    if invalid > total * MAX_INVALID_SHARE:
        raise SnapshotError(
            f"{kind}: wrong format: {invalid} of {total} records are invalid "
            f"(more than {MAX_INVALID_SHARE:.0%}){first}"
        )
    return snapshot
