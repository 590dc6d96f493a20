"""Comparison cache keys, per-model generations, and the codec for cached values.

A cached comparison's key holds its canonical key, the traffic, the order asked and one
generation number per compared model. Anything that changes a model's routes or prices
bumps its generation after commit (INCR), so the next query builds a new key and can never
read a stale answer; nothing is ever deleted by pattern, and old entries expire.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import threading
import time
import types
import typing
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from schema.domain.costs import Traffic
from schema.domain.money import format_decimal

T = TypeVar("T")


def generation_key(model_id: int) -> str:
    return f"llmref:generation:v1:model:{model_id}"


CATALOG_GENERATION_KEY = "llmref:generation:v1:catalog"
"""Bumped with any model's generation, and after any other commit that changes what the API
shows (names, aliases, facts, models, providers: every applied snapshot and curated import,
schema/events.py): whatever reads the catalog beyond a fixed set of models depends on it
(the response cache, api/response_cache.py)."""


def comparison_key(
    canonical_key: str, traffic: Traffic, generations: Sequence[int], order: Sequence[int]
) -> str:
    """``order`` is the position of each asked model in the canonical (sorted) order."""
    shape = ":".join(
        [
            format_decimal(traffic.input_tokens_per_month),
            format_decimal(traffic.output_tokens_per_month),
            format_decimal(traffic.cached_input_share),
            str(traffic.average_input_tokens_per_request),
        ]
    )
    digest = hashlib.sha256(shape.encode()).hexdigest()[:16]
    return (
        f"llmref:comparison:v1:{canonical_key}:{digest}:"
        f"{'.'.join(map(str, generations))}:{''.join(map(str, order))}"
    )


LOCAL_CACHE_TTL_SECONDS = 60
"""How long the in-process cache keeps an entry. Changes made in this process bump
generations at once; changes made by another process (`llmref import` beside an embedded
`llmref serve` without Redis) show once the entry expires."""


class LocalCache:
    """The in-process cache of the embedded default: the same keys and generations as
    Redis, held in this process (bounded, least recently used first out, entries expire)."""

    def __init__(
        self,
        max_entries: int = 2048,
        ttl_seconds: float = LOCAL_CACHE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._generations: dict[int, int] = {}
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._clock = clock

    def generations(self, model_ids: Sequence[int]) -> list[int]:
        with self._lock:
            return [self._generations.get(model_id, 0) for model_id in model_ids]

    def bump(self, model_ids: Iterable[int]) -> None:
        with self._lock:
            for model_id in model_ids:
                self._generations[model_id] = self._generations.get(model_id, 0) + 1

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)


# --- codec: frozen dataclasses <-> JSON, exact for Decimal and dates ------------------------


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)  # exact, and keeps a rounded amount's cents ("103.00")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    return value


def decode(kind: Any, data: Any) -> Any:
    """The value of type ``kind`` that ``encode`` turned into ``data``."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        [inner] = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return decode(inner, data)
    if origin is tuple:
        item = typing.get_args(kind)[0]
        return tuple(decode(item, element) for element in data)
    if origin in (dict, typing.Mapping) or kind is dict:
        _, item = typing.get_args(kind)
        return {key: decode(item, element) for key, element in data.items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _type_hints(kind)
        return kind(
            **{f.name: decode(hints[f.name], data[f.name]) for f in dataclasses.fields(kind)}
        )
    if kind is Decimal:
        return Decimal(data)
    if kind is datetime:
        return datetime.fromisoformat(data)
    if kind is date:
        return date.fromisoformat(data)
    return data


@functools.cache
def _type_hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def dumps(value: Any) -> str:
    return json.dumps(encode(value), separators=(",", ":"))


def loads(kind: type[T], text: str) -> T:
    return typing.cast(T, decode(kind, json.loads(text)))
