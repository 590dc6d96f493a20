"""Every ORM table, imported here so that metadata (and Alembic) sees all of them."""

from schema.models.auth import ApiKey
from schema.models.catalog import (
    Benchmark,
    BenchmarkScore,
    FactSource,
    LlmModel,
    ModelAlias,
    Offering,
    OfferingListing,
    Organization,
    Provider,
)
from schema.models.feeds import FeedRun, FeedSnapshot, FeedSource, UnmatchedName
from schema.models.pricing import HeldPriceChange, ObservedPrice, Price, PriceChangeEvent

__all__ = [
    "ApiKey",
    "Benchmark",
    "BenchmarkScore",
    "FactSource",
    "FeedRun",
    "FeedSnapshot",
    "FeedSource",
    "HeldPriceChange",
    "LlmModel",
    "ModelAlias",
    "ObservedPrice",
    "Offering",
    "OfferingListing",
    "Organization",
    "Price",
    "PriceChangeEvent",
    "Provider",
    "UnmatchedName",
]
