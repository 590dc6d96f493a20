"""Feed adapters: one pure function per feed format, ``parse(raw) -> ParsedSnapshot``.

Each adapter also takes an optional keyword ``as_of`` (an aware datetime, default now) that
decides which of a feed's dated prices is current; feeds without dated prices ignore it.
Use :func:`schema.feeds.parse.parse_snapshot` rather than calling an adapter directly: it
adds the whole-snapshot checks (size, emptiness, share of invalid records).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from schema.feeds.adapters import genai_prices, litellm, llm_prices, modelsdev, openrouter
from schema.feeds.records import ParsedSnapshot


class Adapter(Protocol):
    """A ``Callable[[bytes], ParsedSnapshot]`` that also accepts ``as_of``."""

    def __call__(self, raw: bytes, *, as_of: datetime | None = None) -> ParsedSnapshot: ...


ADAPTERS: dict[str, Adapter] = {
    openrouter.FEED: openrouter.parse,
    litellm.FEED: litellm.parse,
    modelsdev.FEED: modelsdev.parse,
    genai_prices.FEED: genai_prices.parse,
    llm_prices.FEED: llm_prices.parse,
}
"""Adapters keyed by feed kind: openrouter, litellm, models.dev, genai-prices, llm-prices."""
