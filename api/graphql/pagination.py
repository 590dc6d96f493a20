"""Opaque cursors for connections, and the bounds on `first`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from api.graphql.errors import bad_input

T = TypeVar("T")

_PREFIX = "offset:"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The offset after which the next page starts; a clear error for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if text.startswith(_PREFIX) and text[len(_PREFIX) :].isdigit():
        return int(text[len(_PREFIX) :])
    raise bad_input(
        f"malformed cursor {cursor!r}: pass an endCursor or cursor from a previous page"
    )


def check_first(first: int, maximum: int) -> int:
    if not 0 <= first <= maximum:
        raise bad_input(f"first must be between 0 and {maximum}, got {first}")
    return first


def check_offset(offset: int | None) -> int:
    if offset is not None and offset < 0:
        raise bad_input(f"offset must not be negative, got {offset}")
    return offset or 0


def page_of(
    rows: Sequence[T], first: int | None, offset: int | None, *, default: int, maximum: int
) -> list[T]:
    """A plain list's page: `first` items (``default`` when null, at most ``maximum``)
    from ``offset``."""
    start = check_offset(offset)
    size = check_first(default if first is None else first, maximum)
    return list(rows[start : start + size])
