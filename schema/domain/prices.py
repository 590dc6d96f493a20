"""Which source's price is shown: the documented priority of sources, never recency.

Priority (docs/data.md): the curated file, then the provider's own feed (OpenRouter's
for OpenRouter routes), then LiteLLM, genai-prices, models.dev, llm-prices. Any other
source ranks after those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

CURATED = "curated"
FEED_PRIORITY = ("litellm", "genai-prices", "models.dev", "llm-prices")


def source_rank(source: str, provider_slug: str) -> int:
    """Lower wins. The provider's own feed is the one named like the provider."""
    if source == CURATED:
        return 0
    if source == provider_slug:
        return 1
    if source in FEED_PRIORITY:
        return 2 + FEED_PRIORITY.index(source)
    return 2 + len(FEED_PRIORITY)


@dataclass(frozen=True)
class PriceValue:
    """The parts of a price that make it a different price when any of them changes."""

    input_per_mtok: Decimal | None
    output_per_mtok: Decimal | None
    cached_input_per_mtok: Decimal | None
    tiers: tuple[Any, ...]

    @classmethod
    def of(cls, row: Any) -> PriceValue:
        return cls(
            row.input_per_mtok, row.output_per_mtok, row.cached_input_per_mtok, tuple(row.tiers)
        )

    @property
    def complete(self) -> bool:
        return self.input_per_mtok is not None and self.output_per_mtok is not None


def winning_observation(observations: Sequence[Any], provider_slug: str) -> Any | None:
    """The observation to show: best-ranked source, then the latest to take effect."""
    if not observations:
        return None
    return min(
        observations,
        key=lambda obs: (source_rank(obs.source, provider_slug), -obs.effective_from.timestamp()),
    )
