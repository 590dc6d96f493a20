"""What a source states about a route's price or a model's benchmark, in domain units.

Feed adapters produce these inside their records, the curated catalog builds them too;
prices, holds and comparisons read them. Prices are USD per 1M tokens, always Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class PriceTierObservation:
    """Prices that replace the base ones once a request's input reaches min_input_tokens."""

    min_input_tokens: int
    input_per_mtok: Decimal | None = None
    output_per_mtok: Decimal | None = None
    cached_input_per_mtok: Decimal | None = None


@dataclass(frozen=True)
class PriceObservation:
    """One price as a feed states it, in USD per 1M tokens.

    ``effective_from``/``effective_to`` are the feed's own dates (genai-prices
    ``start_date``, llm-prices ``from_date``/``to_date``), None where it gives none.
    """

    input_per_mtok: Decimal | None
    output_per_mtok: Decimal | None
    cached_input_per_mtok: Decimal | None = None
    tiers: tuple[PriceTierObservation, ...] = ()
    effective_from: datetime | None = None
    effective_to: datetime | None = None


@dataclass(frozen=True)
class BenchmarkObservation:
    slug: str
    name: str
    score: float
    higher_is_better: bool = True
